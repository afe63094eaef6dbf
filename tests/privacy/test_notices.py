"""Publishing a privacy-statement version, and mailing a material change once, on a real worker."""

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError

from config.celery import app as celery_app
from core.models import AuditEvent
from crm.models import Contact
from privacy.consent.notices import publish_notice, send_material_change_batch
from privacy.models import NoticeDelivery
from privacy.tasks import mail_material_change
from tests.privacy.factories import ContactFactory, NoticeVersionFactory, PurposeFactory, grant
from tests.privacy.factories import withdraw as withdraw_consent
from tests.waiting import wait_for


@pytest.mark.django_db
def test_publishing_a_minor_change_mails_nobody(django_capture_on_commit_callbacks):
    draft = NoticeVersionFactory(published_at=None, is_material_change=False)
    ContactFactory(relationship=Contact.Relationship.CUSTOMER)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        publish_notice(notice=draft, actor=None)

    draft.refresh_from_db()
    assert draft.published_at is not None
    assert queued == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_publishing_twice_is_refused_and_changes_nothing(admin_user):
    draft = NoticeVersionFactory(published_at=None, is_material_change=True)
    publish_notice(notice=draft, actor=admin_user)
    published_at = draft.published_at
    audit = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match=f"Version {draft.version} was already published"):
        publish_notice(notice=draft, actor=admin_user)

    draft.refresh_from_db()
    assert draft.published_at == published_at
    assert AuditEvent.objects.count() == audit


def people_to_tell_and_not() -> tuple[list[str], list[str]]:
    """Make contacts we may and may not e-mail for service messages; return both addresses."""
    letter = PurposeFactory()
    customer = ContactFactory(relationship=Contact.Relationship.CUSTOMER)
    subscriber = ContactFactory(relationship=Contact.Relationship.PROSPECT)
    grant(subscriber, letter)
    gone = ContactFactory(relationship=Contact.Relationship.SUBSCRIBER)
    grant(gone, letter)
    withdraw_consent(gone, letter)
    bounced = ContactFactory(
        relationship=Contact.Relationship.CUSTOMER, email_status=Contact.EmailStatus.BOUNCED
    )
    complained = ContactFactory(email_status=Contact.EmailStatus.COMPLAINED)
    grant(complained, letter)
    restricted = ContactFactory(relationship=Contact.Relationship.CUSTOMER, is_restricted=True)
    prospect = ContactFactory(relationship=Contact.Relationship.PROSPECT)
    ContactFactory(relationship=Contact.Relationship.CUSTOMER, email=None)
    told = [customer, subscriber]
    not_told = [gone, bounced, complained, restricted, prospect]
    return [c.email for c in told], [c.email for c in not_told]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_material_change_is_mailed_once_to_everyone_we_may_email_through_the_worker():
    told, not_told = people_to_tell_and_not()
    draft = NoticeVersionFactory(
        published_at=None,
        is_material_change=True,
        summary_of_changes="We now keep invoices for seven years instead of five.",
    )
    # The worker reports each batch it finished (the count mailed, or the error); the chain ends
    # with a batch that mails nobody. Waiting for that one, rather than polling the deliveries,
    # leaves no task in the broker for the next test and keeps this thread off the database
    # while the worker writes to it.
    batches: list[object] = []

    def finished(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == mail_material_change.name:
            batches.append(retval)

    task_postrun.connect(finished, weak=False)
    try:
        # Queued before the worker starts: kombu's file-system transport creates a message file
        # before writing it, and a worker polling in another thread can read it empty and stop
        # (compare celery/kombu#1551). The worker's own follow-up tasks do not race it.
        publish_notice(notice=draft, actor=None)
        with start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            queues=["maintenance"],
            shutdown_timeout=30,
        ):
            wait_for(lambda: 0 in batches or any(not isinstance(b, int) for b in batches))
    finally:
        task_postrun.disconnect(finished)

    assert batches == [len(told), 0]
    assert sorted(message.to[0] for message in mail.outbox) == sorted(told)
    for message in mail.outbox:
        assert message.subject == "Our privacy statement has changed"
        assert "We now keep invoices for seven years instead of five." in message.body
        assert f"{settings.SITE_URL}/privacy/versions/{draft.version}/" in message.body
        assert f"{settings.SITE_URL}/preferences/" in message.body
    assert not set(not_told) & {message.to[0] for message in mail.outbox}
    deliveries = NoticeDelivery.objects.filter(notice=draft)
    assert deliveries.filter(sent_at__isnull=False, failed=False).count() == len(told)
    assert deliveries.count() == len(told)

    assert send_material_change_batch(notice_id=draft.pk) == 0
    assert len(mail.outbox) == len(told)
