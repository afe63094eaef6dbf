"""Steps of a data-subject request as people take them: the form, the mails, the links, the admin.

The functions the Celery tasks call (`send_verification_mail`, `act_on_request`) are called here
directly: the tests check that the web request queued the task on commit, then run what the worker
would run. One test in `test_requests_worker.py` runs the same flow on a real worker.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import factory
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone

from core.dates import add_months
from core.models import AuditEvent
from crm.suppression import email_hash
from privacy.links import read_download_token
from privacy.models import SubjectExport, SubjectRequest
from privacy.requests.subject_requests import send_verification_mail

NEW_REQUEST_URL = "/privacy/requests/new/"
SENT_URL = "/privacy/requests/sent/"


def isolate(settings_fixture, tmp_path: Path) -> None:
    """Start from an empty rate-limit cache (shared Redis in CI) and a private folder per test.

    Staff users get a fast password hash: the admin_user fixture otherwise spends half a second
    on PBKDF2 in every test that needs a privacy officer.
    """
    cache.clear()
    settings_fixture.PRIVATE_FILES_DIR = tmp_path / "private"
    settings_fixture.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class SubjectRequestFactory(factory.django.DjangoModelFactory):
    """An open, verified web-form request; set `due_at` to place it in the officer's queue."""

    class Meta:
        model = SubjectRequest

    kind = SubjectRequest.Kind.ACCESS
    channel = SubjectRequest.Channel.WEB_FORM
    email = factory.Sequence(lambda n: f"requester{n}@example.net")
    email_hash = factory.LazyAttribute(lambda r: email_hash(r.email))
    status = SubjectRequest.Status.OPEN
    received_at = factory.LazyFunction(timezone.now)
    verified_at = factory.LazyAttribute(lambda r: r.received_at)
    due_at = factory.LazyAttribute(lambda r: add_months(r.received_at, 1))


def submit(client, kind: str, email: str, **fields) -> HttpResponse:
    """Fill in and send the public request form."""
    return client.post(NEW_REQUEST_URL, {"kind": kind, "email": email, **fields})


def site_links(body: str) -> list[str]:
    """Return the paths of the links to this site in a mail body, in order."""
    urls = re.findall(rf"{re.escape(settings.SITE_URL)}/\S+?/(?=[\s\"<.,]|$)", body)
    return [urlsplit(url).path for url in urls]


def link_to(body: str, prefix: str) -> str:
    """Return the path of the one link in the mail body that starts with `prefix`."""
    (path,) = {path for path in site_links(body) if path.startswith(prefix)}
    return path


def exports_linked(body: str) -> set[int]:
    """Return the ids of the exports a page or mail body links to for download.

    A download token is signed with the time it was made, so the same export's link differs from
    one second to the next: compare what the links open, not their text.
    """
    tokens = re.findall(r"/privacy/requests/download/([^/\s\"<]+)/", body)
    return {read_download_token(token) for token in tokens}


def mails_to(address: str) -> list[mail.EmailMessage]:
    """Return the mails sent to `address`, oldest first."""
    return [message for message in mail.outbox if address in message.to]


def verification_link(subject_request: SubjectRequest) -> str:
    """Run the worker's verification mail for the request; return the link the mail carries."""
    send_verification_mail(request_id=subject_request.pk)
    return link_to(mails_to(subject_request.email)[-1].body, "/privacy/requests/verify/")


def request_of(email: str) -> SubjectRequest:
    """Return the latest request from this address."""
    return SubjectRequest.objects.filter(email_hash=email_hash(email)).latest("pk")


def submit_and_verify(client, kind: str, email: str, **fields) -> SubjectRequest:
    """Send the form, click the mailed link, confirm; return the open request."""
    response = submit(client, kind, email, **fields)
    assert response.status_code == 302, response.content
    subject_request = request_of(email)
    response = client.post(verification_link(subject_request))
    assert response.status_code == 200, response.content
    subject_request.refresh_from_db()
    assert subject_request.status == SubjectRequest.Status.OPEN
    return subject_request


def request_rows() -> list[dict]:
    """Return every request with every column, to show that a refused step changed nothing."""
    return list(SubjectRequest.objects.order_by("pk").values())


def stored() -> dict[str, object]:
    """Count or list what the request flow writes."""
    return {
        "requests": request_rows(),
        "exports": SubjectExport.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


class _Form(HTMLParser):
    """Collect what a browser would send for the first POST form on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str | None, value: str) -> None:
        if name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a.get("name"), a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea, "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                # Browsers drop the newline that follows <textarea>.
                value = self.data[self._textarea][-1]
                self.data[self._textarea][-1] = value.removeprefix("\n")
            self._textarea = None


def form_data(response: HttpResponse) -> dict[str, list[str]]:
    """Return the values the page's form would post as it stands."""
    parser = _Form()
    parser.feed(response.content.decode())
    return parser.data
