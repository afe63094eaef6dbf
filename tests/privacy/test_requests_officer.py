"""The privacy officer: logging letters and e-mails, the queue by deadline, and the decisions."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.dates import add_months
from core.models import AuditEvent
from crm.models import Contact, Suppression
from crm.suppression import email_hash, may_contact
from privacy.consent.ledger import consent_states
from privacy.models import ConsentEvent, SubjectRequest
from privacy.tasks import mail_request_digest
from tests.privacy.factories import ContactFactory, PurposeFactory, grant
from tests.privacy.pages import text
from tests.privacy.request_steps import (
    SubjectRequestFactory,
    form_data,
    isolate,
    mails_to,
    request_rows,
    stored,
    submit_and_verify,
)

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:privacy_subjectrequest_add")
LIST_URL = reverse("admin:privacy_subjectrequest_changelist")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def decide_url(subject_request: SubjectRequest) -> str:
    return reverse("admin:privacy_subjectrequest_decide", args=[subject_request.pk])


def decide(admin_client, subject_request: SubjectRequest, decision: str, text_: str = "", **more):
    """Post the officer's decision and deliver the mails it queues."""
    return admin_client.post(
        decide_url(subject_request), {"decision": decision, "text": text_, **more}
    )


def letter() -> SimpleUploadedFile:
    return SimpleUploadedFile("letter.pdf", b"%PDF-1.4 scanned letter", "application/pdf")


def intake(**fields) -> dict:
    """The add form as an officer fills it in for a signed letter received three days ago."""
    received = timezone.localtime() - timedelta(days=3)
    return {
        "kind": "erasure",
        "channel": "post",
        "email": " Hendrik.Vos@Example.org",
        "received_at_0": received.strftime("%Y-%m-%d"),
        "received_at_1": "10:15:00",
        "identity_check": "Signature matches the customer contract of 2024; called back on file.",
        "details": "Please delete everything you hold about me.",
        "letter": letter(),
        **fields,
    }


# Staff intake --------------------------------------------------------------------------------


def test_a_letter_logged_by_the_officer_is_open_at_once_and_due_a_month_after_receipt(
    admin_client, admin_user, settings, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="hendrik.vos@example.org")

    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(ADD_URL, intake())

    assert response.status_code == 302
    logged = SubjectRequest.objects.get()
    assert logged.status == SubjectRequest.Status.OPEN
    assert logged.channel == SubjectRequest.Channel.POST
    assert logged.email == "hendrik.vos@example.org"
    assert logged.contact == contact
    assert logged.handler == admin_user
    received = timezone.localtime(logged.received_at)
    assert (received.date(), received.strftime("%H:%M")) == (
        (timezone.localtime() - timedelta(days=3)).date(),
        "10:15",
    )
    assert logged.due_at == add_months(logged.received_at, 1)
    assert logged.identity_check.startswith("Signature matches")
    stored_letter = Path(settings.PRIVATE_FILES_DIR) / logged.letter.name
    assert stored_letter.read_bytes() == b"%PDF-1.4 scanned letter"
    assert len(queued) == 1  # the automatic part runs on the worker
    page = admin_client.get(reverse("admin:privacy_subjectrequest_change", args=[logged.pk]))
    assert f'href="{decide_url(logged)}"' in text(page)
    letter_url = reverse("admin:privacy_subjectrequest_letter", args=[logged.pk])
    assert f'href="{letter_url}"' in text(page)
    opened = admin_client.get(letter_url)
    assert b"".join(opened.streaming_content) == b"%PDF-1.4 scanned letter"
    assert AuditEvent.objects.filter(
        object_id=str(logged.pk), action=AuditEvent.Action.VIEWED, details={"letter": True}
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("identity_check", ""),
        ("identity_check", "   "),
        ("email", ""),
        ("email", "hendrik.vos@"),
        ("received_at_0", (timezone.localdate() + timedelta(days=2)).strftime("%Y-%m-%d")),
    ],
)
def test_a_letter_without_identity_check_address_or_with_a_future_date_is_refused(
    admin_client, field, value, settings
):
    response = admin_client.post(ADD_URL, intake(**{field: value}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {field.removesuffix("_0")}
    assert not SubjectRequest.objects.exists()
    assert not AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN).exists()
    letters = Path(settings.PRIVATE_FILES_DIR) / "requests"
    assert not letters.exists() or not any(letters.rglob("*.pdf"))


# The queue -----------------------------------------------------------------------------------


def queue_ids(page) -> list[int]:
    return [
        int(pk) for pk in re.findall(r"/admin/privacy/subjectrequest/(\d+)/change/", text(page))
    ]


def noon(days: int):
    """Return noon, local time, `days` from today: whole calendar days away, whatever the hour."""
    return timezone.localtime().replace(hour=12, minute=0, second=0) + timedelta(days=days)


@pytest.fixture
def queue():
    return {
        "later": SubjectRequestFactory(due_at=noon(20)),
        "overdue": SubjectRequestFactory(due_at=noon(-2)),
        "soon": SubjectRequestFactory(due_at=noon(3)),
        "extended": SubjectRequestFactory(
            due_at=noon(-10), extended_due_at=noon(40), extension_reason="Many systems to search."
        ),
    }


def test_the_queue_lists_the_nearest_deadline_first_and_flags_overdue_and_due_soon(
    admin_client, queue
):
    page = admin_client.get(LIST_URL)

    assert queue_ids(page)[:4] == [
        queue["overdue"].pk,
        queue["soon"].pk,
        queue["later"].pk,
        queue["extended"].pk,
    ]
    html = text(page)
    overdue_since = timezone.localdate(queue["overdue"].due_at).isoformat()
    assert f"OVERDUE since {overdue_since}" in html
    assert "due in 3 days" in html
    assert html.count("OVERDUE") == 1  # the extended one is not overdue
    assert html.count("due in ") == 1


@pytest.mark.parametrize(("flag", "expected"), [("overdue", ["overdue"]), ("week", ["soon"])])
def test_the_deadline_filter_shows_overdue_or_due_within_a_week(
    admin_client, queue, flag, expected
):
    SubjectRequestFactory(due_at=noon(-5), status=SubjectRequest.Status.COMPLETED)

    page = admin_client.get(LIST_URL, {"deadline": flag})

    assert queue_ids(page) == [queue[name].pk for name in expected]


def test_the_queue_runs_the_same_queries_for_3_or_30_requests(admin_client, admin_user):
    for _ in range(3):
        SubjectRequestFactory(handler=admin_user)
    admin_client.get(LIST_URL)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(LIST_URL)
    for _ in range(27):
        SubjectRequestFactory(handler=admin_user)
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(LIST_URL)

    assert len(queue_ids(page)) == 30
    assert len(many) == len(few)


def test_a_full_address_finds_its_requests_by_hash(admin_client):
    mine = SubjectRequestFactory(email="ilse.jacobs@example.org")
    SubjectRequestFactory(email="someone.else@example.org")

    page = admin_client.get(LIST_URL, {"q": " Ilse.Jacobs@example.org"})

    assert queue_ids(page) == [mine.pk]


def test_the_daily_digest_mails_the_officers_what_is_overdue_and_due_soon(admin_user, queue):
    admin_user.email = "privacy.officer@example.org"
    admin_user.save()

    assert mail_request_digest() == 4

    (digest,) = mail.outbox
    assert digest.to == ["privacy.officer@example.org"]
    assert digest.subject == "Privacy requests: 1 overdue, 1 due within 7 days"
    assert f"#{queue['overdue'].pk}" in digest.body
    assert "@example.net" not in digest.body


# Decisions -----------------------------------------------------------------------------------


@pytest.fixture
def open_request(client) -> SubjectRequest:
    ContactFactory(email="bram.willems@example.org", first_name="Bram", last_name="Willems")
    return submit_and_verify(client, "access", "bram.willems@example.org")


def test_the_decision_page_shows_the_request_and_its_deadline(admin_client, open_request):
    page = admin_client.get(decide_url(open_request))

    assert page.status_code == 200
    due = timezone.localdate(open_request.due_at)
    assert f"due {due.day} {due:%B %Y}" in text(page)
    assert "Open the contact" in text(page)


def test_extending_by_two_months_with_a_reason_tells_the_requester_why(
    admin_client, open_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            admin_client, open_request, "extend", "Your data sits in three archives.", months="2"
        )

    assert response.status_code == 302
    open_request.refresh_from_db()
    assert open_request.extended_due_at == add_months(open_request.due_at, 2)
    assert open_request.deadline == open_request.extended_due_at
    assert open_request.status == SubjectRequest.Status.OPEN
    (message,) = mails_to("bram.willems@example.org")[1:]
    assert "Your data sits in three archives." in message.body
    due = timezone.localdate(open_request.extended_due_at)
    assert f"{due.day} {due:%B %Y}" in message.body


def test_a_second_extension_is_refused_with_a_message_and_changes_nothing(
    admin_client, open_request, django_capture_on_commit_callbacks
):
    decide(admin_client, open_request, "extend", "Three archives.", months="1")
    before, sent = stored(), len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(admin_client, open_request, "extend", "Still searching.", months="2")

    assert response.status_code == 200
    assert "This request was already extended once." in text(response)
    assert stored() == before
    assert len(mail.outbox) == sent


def test_an_extension_after_the_first_month_is_refused(
    admin_client, open_request, django_capture_on_commit_callbacks
):
    SubjectRequest.objects.filter(pk=open_request.pk).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    before, sent = stored(), len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(admin_client, open_request, "extend", "Three archives.", months="1")

    assert response.status_code == 200
    assert "The first month has passed" in text(response)
    assert stored() == before
    assert len(mail.outbox) == sent


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ("extend", "Give the reason: it is sent to the requester."),
        ("reject", "Give the reason: it is sent to the requester."),
        ("complete", "Write the answer: it is mailed to the requester."),
    ],
)
def test_a_decision_that_needs_a_text_is_refused_without_one(
    admin_client, open_request, decision, message, django_capture_on_commit_callbacks
):
    before, sent = stored(), len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(admin_client, open_request, decision, "  ", months="1")

    assert response.status_code == 200
    assert message in text(response)
    assert stored() == before
    assert len(mail.outbox) == sent


def test_completing_with_an_answer_closes_the_request_and_mails_the_answer(
    admin_client, admin_user, open_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(admin_client, open_request, "complete", "We sent your file by post.")

    assert response.status_code == 302
    open_request.refresh_from_db()
    assert open_request.status == SubjectRequest.Status.COMPLETED
    assert open_request.completed_at is not None
    assert open_request.handler == admin_user
    answer = mails_to("bram.willems@example.org")[-1]
    assert "We sent your file by post." in answer.body
    assert "/privacy/requests/status/" in answer.body


def test_rejecting_with_a_reason_closes_the_request_and_says_why(
    admin_client, open_request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        decide(admin_client, open_request, "reject", "Fourth identical request this month.")

    open_request.refresh_from_db()
    assert open_request.status == SubjectRequest.Status.REJECTED
    assert "Fourth identical request this month." in mails_to(open_request.email)[-1].body


@pytest.mark.parametrize(
    ("decision", "text_"),
    [
        ("complete", "Done."),
        ("reject", "No."),
        ("extend", "More time."),
        ("restrict", ""),
        ("uphold_objection", ""),
        ("approve_erasure", ""),
    ],
)
def test_no_decision_changes_a_closed_request(
    admin_client, open_request, decision, text_, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        decide(admin_client, open_request, "complete", "We sent your file by post.")
    open_request.refresh_from_db()
    contact = Contact.objects.get(email="bram.willems@example.org")
    before, sent = stored(), len(mail.outbox)
    suppressions = Suppression.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(admin_client, open_request, decision, text_, months="1")

    assert response.status_code == 200
    assert stored() == before
    assert len(mail.outbox) == sent
    assert Suppression.objects.count() == suppressions
    contact.refresh_from_db()
    assert contact.is_restricted is False


def test_restriction_marks_the_contact_and_tells_the_requester(
    client, admin_client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="lieke.maas@example.org")
    restriction = submit_and_verify(client, "restriction", contact.email)

    with django_capture_on_commit_callbacks(execute=True):
        decide(admin_client, restriction, "restrict")

    contact.refresh_from_db()
    assert contact.is_restricted is True
    restriction.refresh_from_db()
    assert restriction.status == SubjectRequest.Status.COMPLETED
    assert "Your data is restricted" in mails_to(contact.email)[-1].body
    assert AuditEvent.objects.filter(
        object_type__model="contact", object_id=str(contact.pk), details__fields=["is_restricted"]
    ).exists()


def test_an_upheld_objection_withdraws_the_purposes_named_and_suppresses_marketing(
    client, admin_client, newsletter, offers, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="koen.peters@example.org")
    grant(contact, newsletter)
    grant(contact, offers)
    # Art. 21 applies to our legitimate interest; consent purposes are withdrawn instead.
    prospecting = PurposeFactory(code="b2b_prospecting", legal_basis="legitimate_interest")
    objection = submit_and_verify(client, "objection", contact.email, purposes=[prospecting.pk])
    assert list(objection.purposes.all()) == [prospecting]

    with django_capture_on_commit_callbacks(execute=True):
        decide(admin_client, objection, "uphold_objection")

    assert consent_states(contact) == {
        newsletter.code: "grant",
        offers.code: "grant",
        prospecting.code: "withdraw",
    }
    withdrawal = ConsentEvent.objects.get(contact=contact, action="withdraw")
    assert withdrawal.purpose == prospecting
    suppression = Suppression.objects.get(email_hash=email_hash(contact.email))
    assert (suppression.client, suppression.reason) == (None, Suppression.Reason.OBJECTION)
    assert not may_contact(email=contact.email)
    objection.refresh_from_db()
    assert objection.status == SubjectRequest.Status.COMPLETED
    assert "no marketing" in mails_to(contact.email)[-1].body


def test_approving_erasure_is_refused_for_a_request_that_is_not_an_erasure(
    admin_client, open_request
):
    before = stored()
    contacts = Contact.objects.count()

    response = decide(admin_client, open_request, "approve_erasure")

    assert response.status_code == 200
    assert "Only erasure and exclusion requests erase." in text(response)
    assert stored() == before
    assert Contact.objects.count() == contacts


def test_a_rectification_suggests_an_answer_naming_the_fields_changed_since_receipt(
    client, admin_client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(
        email="sofie.claes@example.org", first_name="Sofi", last_name="Claes", phone=""
    )
    rectification = submit_and_verify(
        client, "rectification", contact.email, details="My name is Sofie, and add my phone."
    )
    change_url = reverse("admin:crm_contact_change", args=[contact.pk])
    data = form_data(admin_client.get(change_url))
    data.update(first_name=["Sofie"], phone=["+31 6 1122 3344"])
    response = admin_client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    page = admin_client.get(decide_url(rectification))

    suggested = "We corrected your data: first name, phone."
    assert suggested in text(page)
    with django_capture_on_commit_callbacks(execute=True):
        decide(admin_client, rectification, "complete", suggested)
    assert suggested in mails_to(contact.email)[-1].body
    contact.refresh_from_db()
    assert (contact.first_name, contact.phone) == ("Sofie", "+31611223344")


def test_a_request_for_no_known_contact_says_so_on_the_decision_page(client, admin_client):
    restriction = submit_and_verify(client, "restriction", "unknown.person@example.net")

    assert "No contact has this address." in text(admin_client.get(decide_url(restriction)))


def test_staff_without_the_change_permission_cannot_decide(client, open_request):
    from django.contrib.auth import get_user_model

    clerk = get_user_model().objects.create(username="clerk", is_staff=True)
    client.force_login(clerk)
    before = request_rows()

    response = client.post(decide_url(open_request), {"decision": "complete", "text": "Done."})

    assert response.status_code == 403
    assert request_rows() == before


def test_an_objection_logged_by_letter_keeps_the_purposes_named(admin_client):
    ContactFactory(email="hendrik.vos@example.org")
    profiling = PurposeFactory(code="profiling-letter", legal_basis="legitimate_interest")
    response = admin_client.post(ADD_URL, intake(kind="objection", purposes=[str(profiling.pk)]))
    assert response.status_code == 302
    logged = SubjectRequest.objects.get()
    assert list(logged.purposes.all()) == [profiling]
