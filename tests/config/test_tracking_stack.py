"""Tracking paths run through the small middleware stack of the WSGI entry point, headers intact.

The requests go through `config.wsgi.application`, the object gunicorn serves, so what is checked
is what a mail client or a browser gets: the same security headers as the full stack, no session
or CSRF cookie, the event buffered, a forged link refused; every other path keeps the full stack.
"""

import io
import logging
import re
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from campaigns.tracking.flush import flush_hits
from config.tracking_stack import TrackingHandler
from config.wsgi import application
from tests.campaigns.factories import MessageFactory, TrackedLinkFactory
from tests.campaigns.test_tracking_signed import sent_click_path

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cache-Control",
)


@pytest.fixture(autouse=True)
def _one_connection_per_test() -> Iterator[None]:
    """Keep the test's database connection open across the calls, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def served(app, path: str, *, method: str = "GET") -> tuple[int, dict[str, str], list[str]]:
    """Call a WSGI application as a server would; return the status, headers and cookies set."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
    }
    started: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        started["status"] = int(status.split()[0])
        started["headers"] = headers

    body = application_body(app(environ, start_response))
    assert body is not None
    headers = {name: value for name, value in started["headers"] if name != "Set-Cookie"}
    cookies = [value.strip() for name, value in started["headers"] if name == "Set-Cookie"]
    return started["status"], headers, cookies


def application_body(result) -> bytes:
    """Read and close a WSGI response body, as a server does."""
    try:
        return b"".join(result)
    finally:
        result.close()


def security_headers(headers: dict[str, str]) -> dict[str, str]:
    """Return the security headers of a response."""
    return {name: headers.get(name) for name in SECURITY_HEADERS}


def test_the_open_pixel_has_the_full_stacks_security_headers_and_no_cookie():
    message = MessageFactory()
    path = f"/t/o/{message.token}.gif"

    status, headers, cookies = served(application, path)
    full_status, full_headers, _ = served(WSGIHandler(), path)

    assert status == full_status == 200
    assert headers["Content-Type"] == "image/gif"
    assert security_headers(headers) == security_headers(full_headers)
    assert "no-store" in headers["Cache-Control"]
    assert headers["X-Frame-Options"] == "DENY"
    assert cookies == []
    assert flush_hits().events == 2


def test_a_click_redirects_and_a_forged_one_is_refused_through_the_small_stack():
    message = MessageFactory()
    link = TrackedLinkFactory(campaign=message.campaign)
    path = sent_click_path(message, link)

    status, headers, _ = served(application, path)
    forged_status, forged_headers, _ = served(application, path.replace("/t/k/", "/t/k/x"))

    assert status == 302
    assert headers["Location"].startswith(f"{link.url}?crm_v=")
    assert forged_status == 404
    assert "Location" not in forged_headers
    assert forged_headers["X-Frame-Options"] == "DENY"
    assert flush_hits().events == 1


def test_a_tracking_request_is_logged_with_its_request_id(caplog):
    message = MessageFactory()

    with caplog.at_level(logging.INFO, logger="config.request"):
        _, headers, _ = served(application, f"/t/o/{message.token}.gif")

    (record,) = [r for r in caplog.records if r.name == "config.request"]
    assert record.getMessage().startswith("GET /t/o/")
    assert record.status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])


def test_other_paths_keep_the_full_stack():
    status, _, cookies = served(application, "/admin/login/")

    assert status == 200
    assert any(cookie.startswith("csrftoken=") for cookie in cookies)


def test_a_middleware_with_view_hooks_is_refused_in_the_tracking_stack(settings):
    settings.TRACKING_MIDDLEWARE = [
        *settings.TRACKING_MIDDLEWARE,
        "django.middleware.csrf.CsrfViewMiddleware",
    ]

    with pytest.raises(ImproperlyConfigured, match="CsrfViewMiddleware"):
        TrackingHandler()
