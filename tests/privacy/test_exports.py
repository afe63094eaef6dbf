"""Access and portability: the requester downloads everything held about them, and only that."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import AuditEvent
from core.registry import registry
from crm.models import Contact
from privacy.links import download_url, status_url
from privacy.models import NoticeDelivery, SubjectExport, SubjectRequest
from privacy.requests.subject_requests import act_on_request
from tests.crm.factories import ContactSourceFactory, InteractionFactory
from tests.privacy.factories import ContactFactory, grant, withdraw
from tests.privacy.pages import heading, site_path, text
from tests.privacy.request_steps import (
    exports_linked,
    isolate,
    link_to,
    mails_to,
    submit_and_verify,
)

pytestmark = pytest.mark.django_db

DOWNLOAD = "/privacy/requests/download/"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def person(first: str, last: str, email: str, phone: str, newsletter, offers, notice, staff):
    """Make a contact with provenance, consent history, interactions, a notice and admin log."""
    contact = ContactFactory(first_name=first, last_name=last, email=email, phone=phone)
    ContactSourceFactory(contact=contact, reference=f"https://www.example.org/fair/{last}")
    InteractionFactory(contact=contact, subject=f"Call with {first}", body=f"{first} wants a demo.")
    grant(contact, newsletter)
    grant(contact, offers)
    withdraw(contact, offers)
    NoticeDelivery.objects.create(notice=notice, contact=contact, sent_at=timezone.now())
    LogEntry.objects.log_actions(
        staff.pk, Contact.objects.filter(pk=contact.pk), CHANGE, change_message="Edited phone."
    )
    return contact


@pytest.fixture
def subject(newsletter, offers, notice, admin_user) -> Contact:
    return person(
        "Marieke",
        "Verhoeven",
        "marieke.verhoeven@example.org",
        "+31612345678",
        newsletter,
        offers,
        notice,
        admin_user,
    )


@pytest.fixture
def neighbour(newsletter, offers, notice, admin_user) -> Contact:
    return person(
        "Joris",
        "Bakker",
        "joris.bakker@example.net",
        "+31687654321",
        newsletter,
        offers,
        notice,
        admin_user,
    )


def answered(client, kind: str, email: str, capture) -> SubjectRequest:
    """Send and verify the request, run the worker's step, deliver the mails; return it."""
    subject_request = submit_and_verify(client, kind, email)
    with capture(execute=True):
        act_on_request(request_id=subject_request.pk)
    subject_request.refresh_from_db()
    return subject_request


def download(client, path: str) -> zipfile.ZipFile:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.parametrize("kind", ["access", "portability"])
def test_the_requester_gets_a_mail_with_a_link_to_a_zip_of_json_and_html(
    client, kind, subject, neighbour, django_capture_on_commit_callbacks
):
    subject_request = answered(client, kind, subject.email, django_capture_on_commit_callbacks)

    assert subject_request.status == SubjectRequest.Status.COMPLETED
    export = SubjectExport.objects.get()
    assert export.request == subject_request
    assert export.contact == subject
    (answer,) = [m for m in mails_to(subject.email) if "is answered" in m.body]
    archive = download(client, link_to(answer.body, DOWNLOAD))
    assert sorted(archive.namelist()) == ["data.json", "index.html"]
    html = archive.read("index.html").decode()
    assert "Your personal data" in html
    assert "Marieke" in html and "wants a demo" in html


def test_data_json_has_every_declared_table_and_the_subjects_history_and_nothing_of_the_neighbour(
    client, subject, neighbour, offers, django_capture_on_commit_callbacks
):
    answered(client, "access", subject.email, django_capture_on_commit_callbacks)
    archive = download(client, site_path(download_url(SubjectExport.objects.get())))

    data = json.loads(archive.read("data.json"))
    tables = data["tables"]
    assert set(tables) == {declaration.label for declaration in registry}
    assert data["subject"] == {"id": subject.pk}
    (me,) = tables["crm.contact"]["rows"]
    assert (me["email"], me["first_name"], me["phone"]) == (
        "marieke.verhoeven@example.org",
        "Marieke",
        "+31612345678",
    )
    (provenance,) = tables["crm.contactsource"]["rows"]
    assert provenance["reference"] == "https://www.example.org/fair/Verhoeven"
    assert provenance["collected_at"]
    ledger = [(row["purpose"], row["action"]) for row in tables["privacy.consentevent"]["rows"]]
    assert sorted(ledger) == sorted(
        [("Weekly letter", "grant"), ("Partner offers", "grant"), ("Partner offers", "withdraw")]
    )
    assert all(row["wording"] for row in tables["privacy.consentevent"]["rows"])
    states = {row["purpose"]: row["status"] for row in tables["privacy.consentstate"]["rows"]}
    assert states == {"Weekly letter": "grant", "Partner offers": "withdraw"}
    (call,) = tables["crm.interaction"]["rows"]
    assert call["body"] == "Marieke wants a demo."
    assert len(tables["privacy.noticedelivery"]["rows"]) == 1
    assert len(tables["admin.logentry"]["rows"]) == 1
    (own_request,) = tables["privacy.subjectrequest"]["rows"]
    assert own_request["kind"] == "access"
    for table in tables.values():
        assert table["description"]
        assert table["category"]

    everything = b"".join(archive.read(name) for name in archive.namelist()).decode().lower()
    for trace in ("joris", "bakker", "joris.bakker@example.net", "+31687654321", "0687654321"):
        assert trace not in everything


def test_each_download_is_counted_and_audited(client, subject, django_capture_on_commit_callbacks):
    answered(client, "access", subject.email, django_capture_on_commit_callbacks)
    export = SubjectExport.objects.get()
    path = site_path(download_url(export))

    download(client, path)
    download(client, path)

    export.refresh_from_db()
    assert export.downloads == 2
    downloads = AuditEvent.objects.filter(
        object_type__model="subjectexport", object_id=str(export.pk), details__download=True
    )
    assert downloads.count() == 2
    assert {event.channel for event in downloads} == {"public"}


def test_an_expired_link_gets_410_a_tampered_one_400_and_nothing_is_counted(
    client, subject, django_capture_on_commit_callbacks
):
    answered(client, "access", subject.email, django_capture_on_commit_callbacks)
    export = SubjectExport.objects.get()
    path = site_path(download_url(export))
    audit_before = AuditEvent.objects.count()

    tampered = client.get(path[:-5] + "abcd/")
    SubjectExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    expired = client.get(path)

    assert tampered.status_code == 400
    assert heading(tampered) == "This link does not work"
    assert expired.status_code == 410
    assert heading(expired) == "This link has expired"
    assert 'href="/privacy/requests/new/"' in text(expired)
    export.refresh_from_db()
    assert export.downloads == 0
    assert AuditEvent.objects.count() == audit_before


def test_the_link_expires_after_the_configured_days(
    client, settings, subject, django_capture_on_commit_callbacks
):
    settings.EXPORT_LINK_MAX_AGE_DAYS = 7
    answered(client, "portability", subject.email, django_capture_on_commit_callbacks)

    export = SubjectExport.objects.get()
    assert (
        timedelta(days=7) - timedelta(minutes=1)
        < export.expires_at - timezone.now()
        <= timedelta(days=7)
    )


def test_an_access_request_for_an_unknown_address_answers_that_nothing_is_held(
    client, subject, django_capture_on_commit_callbacks
):
    subject_request = answered(
        client, "access", "stranger@example.net", django_capture_on_commit_callbacks
    )

    assert subject_request.status == SubjectRequest.Status.COMPLETED
    assert subject_request.result == "We hold no personal data about this address."
    assert not SubjectExport.objects.exists()
    (answer,) = [m for m in mails_to("stranger@example.net") if "is answered" in m.body]
    assert "We hold no personal data about this address." in answer.body
    assert DOWNLOAD not in answer.body
    assert "Marieke" not in answer.body


def test_the_status_page_shows_the_completed_request_and_its_download_link(
    client, subject, django_capture_on_commit_callbacks
):
    subject_request = answered(client, "access", subject.email, django_capture_on_commit_callbacks)

    page = client.get(site_path(status_url(subject_request)))

    assert "Completed" in text(page)
    assert exports_linked(page.content.decode()) == {SubjectExport.objects.get().pk}


def test_running_the_task_again_makes_no_second_export_and_no_second_mail(
    client, subject, django_capture_on_commit_callbacks
):
    subject_request = answered(client, "access", subject.email, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        act_on_request(request_id=subject_request.pk)

    assert SubjectExport.objects.count() == 1
    assert len(mail.outbox) == sent


def test_the_export_command_prints_a_working_link(client, subject, capsys):
    call_command("export_subject", " Marieke.Verhoeven@example.org")

    out = capsys.readouterr().out
    export = SubjectExport.objects.get(contact=subject)
    assert exports_linked(out) == {export.pk}
    assert sorted(download(client, link_to(out, DOWNLOAD)).namelist()) == [
        "data.json",
        "index.html",
    ]
    assert AuditEvent.objects.filter(
        object_id=str(subject.pk), action="exported", channel="command"
    ).exists()


@pytest.mark.parametrize("address", ["nobody@example.net", "not-an-address"])
def test_the_export_command_refuses_an_unknown_or_invalid_address(address, subject):
    with pytest.raises(CommandError):
        call_command("export_subject", address)

    assert not SubjectExport.objects.exists()
