import io
import json
import logging

import pytest
from django.test import Client

from config.log_filters import RedactPersonalData, redact
from config.log_format import HumanFormatter, JsonFormatter
from tests.crm.factories import ContactFactory


def test_tokens_of_public_links_are_redacted_and_other_paths_kept():
    assert redact("Gone: /privacy/requests/download/MQ:1xUv:abc/") == (
        "Gone: /privacy/requests/download/[token]/"
    )
    assert redact("Bad Request: /u/WzEsbnVsbF0:1x:sig/") == "Bad Request: /u/[token]/"
    assert redact("Not Found: /admin/crm/contact/12/change/") == (
        "Not Found: /admin/crm/contact/12/change/"
    )


def test_e_mail_addresses_are_masked_wherever_they_appear():
    assert redact("duplicate key (email)=(ana.pop+news@example.org)") == (
        "duplicate key (email)=([email])"
    )
    assert redact("Not Found: /x/ana.pop%40example.org/") == "Not Found: /x/[email]/"


def test_a_4xx_on_a_signed_link_is_logged_without_its_token(caplog, db):
    caplog.handler.addFilter(RedactPersonalData())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().post("/privacy/requests/verify/tampered-secret-token/")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/privacy/requests/verify/[token]/" in logged
    assert "tampered-secret-token" not in logged


def test_the_configured_log_handler_masks_personal_data():
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RedactPersonalData) for h in handlers for f in h.filters)


@pytest.fixture
def json_log():
    """The configured stderr handler, writing JSON lines into a buffer for the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactPersonalData) for f in h.filters)
    )
    buffer = io.StringIO()
    previous_stream, previous_formatter = handler.setStream(buffer), handler.formatter
    handler.setFormatter(JsonFormatter())
    yield buffer
    handler.setStream(previous_stream)
    handler.setFormatter(previous_formatter)


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_a_request_with_an_address_in_it_logs_json_lines_without_the_address(json_log):
    response = Client().get("/no-such-page/lena.visser@example.org/")
    assert response.status_code == 404
    lines = _lines(json_log)
    assert lines, "the request left no log line"
    assert "lena.visser" not in json_log.getvalue()
    assert "example.org" not in json_log.getvalue()
    request_id = response.headers["X-Request-ID"]
    finished = next(line for line in lines if line["logger"] == "config.request")
    assert finished["message"] == "GET /no-such-page/[email]/ 404"
    assert finished["status"] == 404
    assert finished["duration_ms"] >= 0
    assert finished["request_id"] == request_id
    assert {"time", "level", "logger", "message"} <= set(finished)
    # Django's own warning about the 404 carries the same request id, and no address either.
    warning = next(line for line in lines if line["logger"] == "django.request")
    assert warning["request_id"] == request_id
    assert warning["message"] == "Not Found: /no-such-page/[email]/"


@pytest.mark.django_db
def test_a_contact_logged_as_an_argument_appears_by_id_never_by_name(json_log):
    contact = ContactFactory(first_name="Maarten", last_name="Dekker")
    logging.getLogger("crm.test").warning(
        "could not reach %s", contact, extra={"request_id": "abcdef12"}
    )
    logging.getLogger("crm.test").warning("update %(email)s", {"email": contact.email})
    line, mapping = _lines(json_log)
    assert line["message"] == f"could not reach <crm.Contact #{contact.pk}>"
    assert mapping["message"] == "update [redacted]"
    assert "Dekker" not in json_log.getvalue()


def test_a_traceback_is_logged_without_the_address_in_its_exception(json_log):
    try:
        raise ValueError("duplicate e-mail noor.jansen@example.net")
    except ValueError:
        logging.getLogger("crm.test").exception("import failed")
    (line,) = _lines(json_log)
    assert "ValueError: duplicate e-mail [email]" in line["exception"]
    assert "noor.jansen" not in json_log.getvalue()


def test_the_human_format_writes_one_line_with_the_request_fields():
    record = logging.LogRecord("config.request", logging.INFO, __file__, 1, "GET / 200", (), None)
    record.request_id, record.status, record.duration_ms = "abcdef12", 200, 3.5
    line = HumanFormatter().format(record)
    assert line.endswith("INFO config.request [abcdef12] GET / 200 status=200 duration_ms=3.5")
