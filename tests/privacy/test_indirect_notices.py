"""The art. 14 notice to people whose data we did not collect from them: once, in time, counted."""

from datetime import date, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.utils import timezone

from config.celery import app as celery_app
from core.models import AuditEvent
from crm.models import Contact, ContactSource, Source, Suppression
from crm.suppression import suppress
from privacy.accountability import indirect_notices
from privacy.accountability.checks import privacy_report
from privacy.accountability.indirect_notices import notice_due_by, send_indirect_notices
from privacy.models import Purpose
from privacy.tasks import mail_indirect_notices
from tests.crm.factories import ClientFactory, ContactFactory, ContactSourceFactory, SourceFactory
from tests.privacy.factories import PurposeFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def purposes(db) -> list[Purpose]:
    return [
        PurposeFactory(
            code="b2b_prospecting",
            name="Business prospecting",
            description="Offering our services to companies' buyers by e-mail.",
            legal_basis=Purpose.LegalBasis.LEGITIMATE_INTEREST,
        ),
        PurposeFactory(
            code="retired",
            name="Retired purpose",
            legal_basis=Purpose.LegalBasis.LEGITIMATE_INTEREST,
            is_active=False,
        ),
        PurposeFactory(code="monthly_letter", name="Monthly letter"),
    ]


def directory() -> Source:
    return SourceFactory(
        kind=Source.Kind.BUSINESS_DIRECTORY,
        name="Benelux business directory",
        url="https://directory.example.net/",
    )


def found_in(source: Source, **contact_fields) -> ContactSource:
    """A contact whose data came from `source`, collected yesterday, not informed."""
    return ContactSourceFactory(
        source=source,
        contact=ContactFactory(**contact_fields),
        collected_at=timezone.now() - timedelta(days=1),
    )


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def test_a_directory_contact_gets_one_notice_with_everything_art_14_asks_and_is_marked_informed(
    purposes,
):
    row = found_in(directory(), first_name="Joost", email="joost.willems@example.org")

    counts = send_indirect_notices()

    assert counts["sent"] == 1
    (message,) = mails_to("joost.willems@example.org")
    assert message.to == ["joost.willems@example.org"]
    assert message.subject == "Why we hold your contact details"
    body = message.body
    assert body.startswith("Hello Joost,")
    for text in (
        "We are CRM (http",  # who we are: DEFAULT_FROM_EMAIL's name and SITE_URL
        settings.SITE_URL,
        "Benelux business directory (Public source: business directory)",
        "https://directory.example.net/",
        "Business prospecting: Offering our services to companies' buyers by e-mail.",
        "Legitimate interest (art. 6(1)(f))",
        "Your name, your e-mail address",
        "nothing else unless you agree to it",
        "object to its use",
        "data protection authority",
        f"{settings.SITE_URL}/preferences/",
        f"{settings.SITE_URL}/privacy/requests/new/",
        f"{settings.SITE_URL}/privacy/",
        "crm@example.org",
    ):
        assert text in body, text
    assert "Retired purpose" not in body
    # Consent purposes do not apply to someone who never agreed to them.
    assert "Monthly letter" not in body
    assert "&#x27;" not in body and "&amp;" not in body
    row.refresh_from_db()
    assert row.informed_at == timezone.localdate()
    event = AuditEvent.objects.get(object_type__model="contactsource", object_id=str(row.pk))
    assert (event.action, event.channel, event.actor) == ("changed", "task", None)
    assert event.details == {"art14_notice": "sent", "fields": ["informed_at"]}
    assert privacy_report().indirect_contacts_not_informed == 0


def test_a_second_run_sends_nothing(purposes):
    found_in(directory())
    send_indirect_notices()

    again = send_indirect_notices()

    assert again["sent"] == 0
    assert again["last_contact_id"] is None
    assert len(mail.outbox) == 1


def test_a_web_form_or_staff_contact_gets_no_notice(purposes):
    found_in(SourceFactory(kind=Source.Kind.WEB_FORM, name="Newsletter form"))
    found_in(SourceFactory(kind=Source.Kind.STAFF_ENTRY, name="Entered by staff"))
    already = found_in(directory())
    already.informed_at = date(2030, 1, 2)
    already.save()

    counts = send_indirect_notices()

    assert counts["sent"] == 0
    assert mail.outbox == []
    already.refresh_from_db()
    assert already.informed_at == date(2030, 1, 2)


def test_people_we_may_not_mail_are_skipped_counted_and_left_uninformed(purposes):
    source = directory()
    told = found_in(source)
    skipped = [
        found_in(source, email=None),
        found_in(source, email_status=Contact.EmailStatus.BOUNCED),
        found_in(source, email_status=Contact.EmailStatus.COMPLAINED),
        found_in(source, is_restricted=True),
        found_in(source, email="said.never@example.org"),
    ]
    suppress(email="Said.Never@example.org", reason=Suppression.Reason.UNSUBSCRIBE)
    # Suppressed for one client only: that client's choice, not a "never contact me" to us.
    client_only = found_in(source, email="not.for.acme@example.net")
    suppress(
        email=client_only.contact.email,
        reason=Suppression.Reason.UNSUBSCRIBE,
        client=ClientFactory(name="Acme"),
    )

    counts = send_indirect_notices()

    assert counts == {
        "sent": 2,
        "failed": 0,
        "no_email": 1,
        "undeliverable": 2,
        "restricted": 1,
        "suppressed": 1,
        "last_contact_id": client_only.contact.pk,
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [told.contact.email, client_only.contact.email]
    )
    for row in skipped:
        row.refresh_from_db()
        assert row.informed_at is None
    assert privacy_report().indirect_contacts_not_informed == len(skipped)


def test_several_indirect_sources_of_one_person_make_one_notice_naming_each(purposes):
    row = found_in(directory(), email="ilse.vermeer@example.org")
    acme = ClientFactory(name="Acme Retail")
    acme_list = SourceFactory(kind=Source.Kind.CLIENT_LIST, name="Acme spring list", client=acme)
    second = ContactSourceFactory(
        contact=row.contact, source=acme_list, collected_at=timezone.now() - timedelta(hours=2)
    )

    assert send_indirect_notices()["sent"] == 1

    (message,) = mail.outbox
    assert "Benelux business directory" in message.body
    assert "Acme spring list (Client-supplied list, supplied by our client Acme Retail)" in (
        message.body
    )
    assert set(
        ContactSource.objects.filter(pk__in=[row.pk, second.pk]).values_list(
            "informed_at", flat=True
        )
    ) == {timezone.localdate()}


def test_batches_resume_after_the_last_person_examined(purposes):
    source = directory()
    rows = [found_in(source) for _ in range(5)]

    first = send_indirect_notices(batch_size=2)
    second = send_indirect_notices(batch_size=2, after_contact_id=first["last_contact_id"])
    third = send_indirect_notices(batch_size=2, after_contact_id=second["last_contact_id"])
    end = send_indirect_notices(batch_size=2, after_contact_id=third["last_contact_id"])

    assert [b["sent"] for b in (first, second, third, end)] == [2, 2, 1, 0]
    assert end["last_contact_id"] is None
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.contact.email for r in rows)


def test_a_failed_send_clears_the_date_so_tomorrows_run_tries_again(purposes, monkeypatch):
    row = found_in(directory())

    def refuse(message, *args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    with monkeypatch.context() as patched:
        patched.setattr(indirect_notices.EmailMessage, "send", refuse)
        counts = send_indirect_notices()

    assert (counts["sent"], counts["failed"]) == (0, 1)
    row.refresh_from_db()
    assert row.informed_at is None
    events = AuditEvent.objects.filter(object_type__model="contactsource", object_id=str(row.pk))
    assert sorted(e.details["art14_notice"] for e in events) == ["failed", "sent"]

    assert send_indirect_notices()["sent"] == 1
    row.refresh_from_db()
    assert row.informed_at == timezone.localdate()


def test_the_notice_goes_out_the_day_after_collection_and_is_due_a_month_after_with_a_frozen_clock(
    purposes, monkeypatch
):
    zone = timezone.get_current_timezone()
    collected = datetime(2030, 1, 31, 16, 20, tzinfo=zone)
    row = ContactSourceFactory(source=directory(), collected_at=collected)
    # The daily run, the next morning at nine.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2030, 2, 1, 9, 0, tzinfo=zone))

    assert notice_due_by(row) == date(2030, 2, 28)  # one month, clamped to February's last day
    send_indirect_notices()

    row.refresh_from_db()
    assert row.informed_at == date(2030, 2, 1)
    assert row.informed_at <= notice_due_by(row)
    assert notice_due_by(ContactSourceFactory(collected_at=datetime(2030, 3, 15, tzinfo=zone))) == (
        date(2030, 4, 15)
    )
    # Collected just after midnight local time on 1 March: due 1 April, not 31 March (UTC's day).
    early = ContactSourceFactory(collected_at=datetime(2030, 3, 1, 0, 30, tzinfo=zone))
    assert notice_due_by(early) == date(2030, 4, 1)


def test_the_daily_task_is_on_the_beat_schedule():
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == mail_indirect_notices.name
    ]
    assert len(entries) == 1
    assert mail_indirect_notices.name == "privacy.tasks.mail_indirect_notices"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_task_re_queues_itself_until_every_pending_notice_is_handled_on_a_worker(
    monkeypatch,
):
    PurposeFactory()
    source = directory()
    rows = [found_in(source) for _ in range(3)]
    found_in(source, email=None)
    monkeypatch.setattr(indirect_notices, "BATCH_SIZE", 2)
    batches: list[object] = []

    def finished(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == mail_indirect_notices.name:
            batches.append(retval)

    task_postrun.connect(finished, weak=False)
    try:
        # Queued before the worker starts (see tests/privacy/test_notices.py for why).
        mail_indirect_notices.delay()
        with start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            queues=["maintenance"],
            shutdown_timeout=30,
        ):
            wait_for(
                lambda: any(
                    not isinstance(b, dict) or b["last_contact_id"] is None for b in batches
                )
            )
    finally:
        task_postrun.disconnect(finished)

    assert [(b["sent"], b["no_email"]) for b in batches] == [(2, 0), (1, 1), (0, 0)]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.contact.email for r in rows)
    assert ContactSource.objects.filter(informed_at__isnull=True).count() == 1
