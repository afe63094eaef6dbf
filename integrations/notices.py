"""Pass every rectification, erasure and restriction on to the person's recipients (art. 19).

GDPR art. 19: the controller communicates each rectification (art. 16), erasure (art. 17(1)) and
restriction (art. 18) to each recipient to whom the personal data have been disclosed, and tells
the data subject about those recipients if they ask. The event of the change carries the
recipients read from `privacy.accountability.recipients` at that moment (an erasure removes the
record right after). Each recipient gets one `RecipientNotice` on the request: by webhook where
the recipient has an endpoint that takes the event (a 2xx answer is its acknowledgement), else by
an e-mail to its privacy contact quoting a reference and the recipient's own id for the person,
saying what to change and never the data to delete; with neither, the notice waits for the
officer to pass it on by hand. A webhook that gives up falls back to the e-mail. The officer sees
notices not yet acknowledged in the request queue and marks e-mailed ones acknowledged.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent, OutboundEvent
from core.outbox import enqueue_on_commit
from integrations.models import Delivery, RecipientNotice
from privacy.models import Processor, SubjectRequest

OUTSTANDING = (
    RecipientNotice.Status.PENDING,
    RecipientNotice.Status.SENT,
    RecipientNotice.Status.FAILED,
)


def create_notices(*, event: OutboundEvent, deliveries: list[Delivery]) -> list[RecipientNotice]:
    """Record one notice per recipient of the event's person and queue the e-mailed ones."""
    by_recipient = {d.endpoint.recipient_id: d for d in deliveries}
    request_id = event.data.get("request")
    if request_id is not None and not SubjectRequest.objects.filter(pk=request_id).exists():
        request_id = None
    recipients = Processor.objects.in_bulk(
        [r["recipient"] for r in event.data.get("recipients", [])]
    )
    notices = []
    for item in event.data.get("recipients", []):
        recipient = recipients.get(item["recipient"])
        if recipient is None:
            continue
        delivery = by_recipient.get(recipient.pk)
        if delivery is not None:
            method = RecipientNotice.Method.WEBHOOK
        elif recipient.privacy_contact:
            method = RecipientNotice.Method.EMAIL
        else:
            method = RecipientNotice.Method.NONE
        notice, created = RecipientNotice.objects.get_or_create(
            event_id=event.pk,
            recipient=recipient,
            defaults={
                "request_id": request_id,
                "contact_ref": event.contact_id,
                "change": event.kind,
                "reference": item.get("reference", ""),
                "method": method,
                "delivery": delivery,
                "fields": event.data.get("fields", []),
            },
        )
        if created and method == RecipientNotice.Method.EMAIL:
            enqueue_on_commit("integrations.tasks.mail_recipient_notice", notice.pk)
        notices.append(notice)
    return notices


def fall_back_to_mail(*, delivery: Delivery) -> None:
    """Send by e-mail the notices a given-up webhook carried, where there is a privacy contact."""
    for notice in RecipientNotice.objects.filter(delivery=delivery).select_related("recipient"):
        if notice.recipient.privacy_contact:
            RecipientNotice.objects.filter(pk=notice.pk).update(
                method=RecipientNotice.Method.EMAIL, status=RecipientNotice.Status.PENDING
            )
            enqueue_on_commit("integrations.tasks.mail_recipient_notice", notice.pk)
        else:
            RecipientNotice.objects.filter(pk=notice.pk).update(
                status=RecipientNotice.Status.FAILED
            )


WHAT_TO_DO = {
    "contact.erased": "Erase every personal data you hold about this person, and keep only what "
    "the law obliges you to keep.",
    "contact.restricted": "Restrict the processing of this person's data: keep it, but use it "
    "for nothing (no mailing, profiling, export or sharing) until we tell you the restriction "
    "is lifted.",
    "contact.rectified": "Correct this person's data: the fields named below were rectified. Ask "
    "us for the corrected values through the API or by answering this e-mail, quoting the "
    "reference; they are not repeated here.",
}


def send_notice_mail(*, notice_id: int) -> bool:
    """Mail a pending e-mail notice to the recipient's privacy contact; say if one was sent.

    Safe to run twice: a notice already sent is not mailed again.
    """
    notice = (
        RecipientNotice.objects.select_related("recipient")
        .filter(pk=notice_id, method=RecipientNotice.Method.EMAIL)
        .first()
    )
    if notice is None or notice.status != RecipientNotice.Status.PENDING:
        return False
    address = notice.recipient.privacy_contact
    if not address:
        return False
    context = {
        "notice": notice,
        "what_to_do": WHAT_TO_DO[notice.change],
        "site_url": settings.SITE_URL,
    }
    EmailMessage(
        subject=f"GDPR art. 19: {notice.get_change_display().lower()}, reference "
        f"{notice.reference_code}",
        body=render_to_string("emails/recipient_notice.txt", context),
        to=[address],
    ).send()
    RecipientNotice.objects.filter(pk=notice.pk, status=RecipientNotice.Status.PENDING).update(
        status=RecipientNotice.Status.SENT, sent_at=timezone.now()
    )
    return True


def acknowledge_notice(*, notice: RecipientNotice, actor: Actor, channel: str) -> None:
    """Record that the recipient confirmed the change (their answer to the e-mail, a call)."""
    if notice.status == RecipientNotice.Status.ACKNOWLEDGED:
        raise ValidationError("This notice is already acknowledged.")
    with transaction.atomic():
        now = timezone.now()
        RecipientNotice.objects.filter(pk=notice.pk).update(
            status=RecipientNotice.Status.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by=actor if actor is not None and actor.is_authenticated else None,
            sent_at=notice.sent_at or now,
        )
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=notice,
            channel=channel,
            fields=["status", "acknowledged_at"],
        )


def outstanding_notices() -> QuerySet[RecipientNotice]:
    """Return the notices not yet acknowledged by their recipient, oldest first."""
    return (
        RecipientNotice.objects.filter(status__in=OUTSTANDING)
        .select_related("recipient", "request")
        .order_by("created_at", "id")
    )
