"""Data-subject requests of every kind from the form to the answer, and the staff side, in Chromium.

A real Celery worker (in a thread, on the test's broker) mails the verification links and carries
out what needs no decision; the privacy officer approves an erasure in the admin.
"""

import re
import zipfile
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.core import mail

from config.celery import app as celery_app
from crm.models import Contact
from privacy.links import status_url, verification_url
from privacy.models import SubjectRequest
from privacy.requests.subject_requests import submit_request, verify_request
from tests.conftest import drop_queued_tasks
from tests.e2e.conftest import assert_accessible, link_in_mail, log_in_as_staff, screenshot
from tests.privacy.factories import ContactFactory, PurposeFactory, grant
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

VERIFY = "/privacy/requests/verify/"
STATUS = "/privacy/requests/status/"
DOWNLOAD = "/privacy/requests/download/"


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    """A real worker on the queues requesters wait for and the maintenance queue.

    One for the module: stopping a worker takes seconds, and it holds no state between tests.
    """
    drop_queued_tasks()
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default", "maintenance"],
        shutdown_timeout=30,
    ):
        yield


def mails_to(address: str, containing: str) -> list:
    """Return the mails to `address` whose body contains `containing`."""
    return [m for m in mail.outbox if address in m.to and containing in m.body]


def ask(visitor, *, kind_label: str, email: str, submit: str) -> None:
    """Fill in the public request form the way a person does and send it."""
    page = visitor.open("/privacy/requests/new/")
    if not SubjectRequest.objects.exists():
        screenshot(page, "request-form")
    page.get_by_label(kind_label).check()
    page.locator("#id_email").fill(email)
    page.get_by_role("button", name=submit).click()
    page.wait_for_url(re.compile(r"/privacy/requests/sent/"))
    assert_accessible(page)


def verify(visitor, email: str, *, confirm: str) -> None:
    """Open the verification link from the mail and confirm with the button."""
    (message,) = wait_for(lambda: mails_to(email, VERIFY))
    page = visitor.open(link_in_mail(message.body, VERIFY))
    assert_accessible(page)
    page.get_by_role("button", name=confirm).click()
    assert page.get_by_role("heading", level=1).is_visible()
    assert_accessible(page)


# (kind, the form's label, language of the browser, its submit and confirm buttons, outcome)
KINDS = [
    ("access", "Inzage (een kopie van mijn gegevens)", "nl-NL", "nl", "completed"),
    (
        "portability",
        "Portabilitate (datele mele într-un format reutilizabil)",
        "ro-RO",
        "ro",
        "completed",
    ),
    ("withdraw_consent", "Withdraw every consent", "en-GB", "en", "completed"),
    ("rectification", "Rectificatie (mijn gegevens corrigeren)", "nl-NL", "nl", "open"),
    (
        "restriction",
        "Restricționare (nu mai folosiți datele mele deocamdată)",
        "ro-RO",
        "ro",
        "open",
    ),
    ("objection", "Objection (stop processing on legitimate interest)", "en-GB", "en", "open"),
    ("erasure", "Wissing (mijn gegevens verwijderen)", "nl-NL", "nl", "open"),
    ("exclusion", "Excluderea din CRM", "ro-RO", "ro", "open"),
]
BUTTONS = {
    "nl": ("Mijn verzoek versturen", "Ja, dit is mijn adres: ga uw gang"),
    "ro": ("Trimiteți cererea", "Da, aceasta este adresa mea: continuați"),
    "en": ("Send my request", "Yes, this is my address: go ahead"),
}
READABLE_TITLE = {"nl": "Uw persoonsgegevens", "ro": "Datele dumneavoastră cu caracter personal"}
STATUS_LABELS = {
    ("nl", "completed"): "Afgehandeld",
    ("nl", "open"): "Open: wacht op de privacyfunctionaris",
    ("ro", "completed"): "Finalizată",
    ("ro", "open"): "Deschisă: în așteptarea responsabilului cu protecția datelor",
    ("en", "completed"): "Completed",
    ("en", "open"): "Open: waiting for the privacy officer",
}


@pytest.mark.parametrize(("kind", "label", "locale", "language", "outcome"), KINDS)
def test_every_kind_of_request_goes_from_the_form_through_verification(
    visitor_factory, worker, kind, label, locale, language, outcome
):
    email = f"{kind}.requester@example.org"
    contact = ContactFactory(email=email, first_name="Sanne")
    grant(contact, PurposeFactory())
    visitor = visitor_factory(locale)
    submit, confirm = BUTTONS[language]

    ask(visitor, kind_label=label, email=email, submit=submit)
    verify(visitor, email, confirm=confirm)

    (request,) = wait_for(lambda: list(SubjectRequest.objects.filter(kind=kind, status=outcome)))
    assert request.language == language
    if outcome == "completed":
        (answer,) = wait_for(lambda: mails_to(email, STATUS))
        page = visitor.open(link_in_mail(answer.body, STATUS))
    else:
        # The officer decides later; the status link comes with their answer or an extension.
        page = visitor.open(status_url(request))
    assert page.locator("html").get_attribute("lang") == language
    assert STATUS_LABELS[language, outcome] in page.locator("dl").inner_text()
    assert_accessible(page)

    if kind in ("access", "portability"):
        with page.expect_download() as download:
            page.locator(f"a[href*='{DOWNLOAD}']").click()
        with zipfile.ZipFile(download.value.path()) as export:
            assert {"data.json", "index.html"} <= set(export.namelist())
            assert email in export.read("data.json").decode()
            readable = export.read("index.html").decode()
        assert f'<html lang="{language}"' in readable.replace("'", '"')
        assert READABLE_TITLE[language] in readable


def test_a_privacy_officer_logs_in_finds_a_contact_and_approves_an_erasure(visitor_factory, worker):
    officer = get_user_model().objects.create_superuser(
        "officer", "officer@example.org", "a long demo passphrase"
    )
    ContactFactory.create_batch(3)
    contact = ContactFactory(email="jan.de.boer@example.org", first_name="Jan", last_name="Boer")
    request = submit_request(
        kind=SubjectRequest.Kind.ERASURE,
        email=contact.email,
        details="",
        channel=SubjectRequest.Channel.WEB_FORM,
        client_address="192.0.2.10",
    )
    verify_request(token=verification_url(request).rstrip("/").rsplit("/", 1)[-1])

    staff = visitor_factory("nl-NL")
    page = log_in_as_staff(staff, officer, "a long demo passphrase", start="/admin/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#privacy-dashboard").is_visible()
    screenshot(page, "privacy-dashboard")

    page = staff.open("/admin/crm/contact/")
    page.locator("#searchbar").fill("jan.de.boer@example.org")
    page.locator("#searchbar").press("Enter")
    page.wait_for_url(re.compile(r"\?q=jan"))
    assert page.locator("#result_list tbody tr").count() == 1
    screenshot(page, "admin-contact-list")

    page = staff.open(f"/admin/privacy/subjectrequest/{request.pk}/decide/")
    page.get_by_label("Approve the erasure (or exclusion) and send the certificate").check()
    page.get_by_role("button", name="Carry out").click()
    assert "done, the requester is told" in page.locator(".messagelist").inner_text()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.COMPLETED
