"""The privacy statement's versions, and the mailing that tells people of a material change.

GDPR art. 12-14 and 7(2): people must be able to read the statement that applied when they agreed,
so versions are never overwritten. Publishing a version flagged as a material change mails a short
notice of what changed, through the worker, to every contact we may e-mail for service messages.
Each mail is recorded as a `NoticeDelivery` before it is sent, so a worker killed half-way resumes
without mailing anyone twice (at most once per person; a failed send is marked, not retried).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from core.outbox import enqueue_on_commit
from crm.models import Contact
from privacy.links import preferences_url
from privacy.models import ConsentEvent, ConsentState, NoticeDelivery, NoticeVersion
from privacy.translations import missing_translations

logger = logging.getLogger(__name__)


def publish_notice(*, notice: NoticeVersion, actor: Actor) -> NoticeVersion:
    """Publish a version; for a material change, queue the mailing once the change commits."""

    if notice.published_at is not None:
        raise ValidationError(f"Version {notice.version} was already published.")
    missing = missing_translations(notice, ("title", "body", "summary_of_changes"))
    if missing:
        # Art. 12(1): the statement must be readable by everyone it applies to.
        raise ValidationError(
            f"Version {notice.version} needs its text in every language before it is "
            f"published; missing: {', '.join(missing)}."
        )
    with transaction.atomic():
        notice.published_at = timezone.now()
        notice.save(update_fields=["published_at"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=notice,
            channel="admin",
            details={"published": True, "material_change": notice.is_material_change},
        )
        if notice.is_material_change:
            enqueue_on_commit("privacy.tasks.mail_material_change", notice.pk)
    return notice


def service_mail_recipients(notice: NoticeVersion) -> QuerySet[Contact]:
    """Return the contacts to tell of this change who have not been mailed it yet.

    We may e-mail for service messages the customers (contract) and everyone who granted any
    consent; never a bounced or complained address, nor one whose processing is restricted.
    """
    granted = ConsentState.objects.filter(contact=OuterRef("pk"), status=ConsentEvent.Action.GRANT)
    delivered = NoticeDelivery.objects.filter(notice=notice, contact=OuterRef("pk"))
    return (
        Contact.objects.filter(Q(relationship=Contact.Relationship.CUSTOMER) | Exists(granted))
        .filter(email__isnull=False, email_status=Contact.EmailStatus.VALID, is_restricted=False)
        .exclude(Exists(delivered))
        .order_by("pk")
    )


def send_material_change_batch(*, notice_id: int, batch_size: int = 200) -> int:
    """Mail the next batch of people about a material change; return how many were mailed."""
    notice = NoticeVersion.objects.get(pk=notice_id)
    with transaction.atomic():
        contacts = list(service_mail_recipients(notice)[:batch_size])
        deliveries = NoticeDelivery.objects.bulk_create(
            [NoticeDelivery(notice=notice, contact=contact) for contact in contacts]
        )
    for contact, delivery in zip(contacts, deliveries, strict=True):
        try:
            _mail_notice(notice, contact)
        except OSError:
            logger.warning("notice %s: mail to contact %s failed", notice.pk, contact.pk)
            delivery.failed = True
        else:
            delivery.sent_at = timezone.now()
        delivery.save(update_fields=["sent_at", "failed"])
    return len(contacts)


def send_material_change_and_queue_next(*, notice_id: int) -> int:
    """Mail one batch about a material change, then queue the next until everyone is told.

    Return how many this batch mailed; the chain ends with a batch that mails nobody.
    """
    sent = send_material_change_batch(notice_id=notice_id)
    if sent:
        enqueue_on_commit("privacy.tasks.mail_material_change", notice_id)
    return sent


def _mail_notice(notice: NoticeVersion, contact: Contact) -> None:
    context = {
        "notice": notice,
        "contact": contact,
        "notice_url": f"{settings.SITE_URL}{notice.get_absolute_url()}",
        "preferences_url": preferences_url(contact),
    }
    with translation.override(contact.language or None):
        EmailMessage(
            subject=translation.gettext("Our privacy statement has changed").strip(),
            body=render_to_string("emails/notice_changed.txt", context),
            to=[contact.email],
        ).send()
