"""Recording what the mail system says about a message (GDPR art. 5(1)(d) accuracy, art. 21(3)).

Every delivery, bounce, complaint and provider-side unsubscribe, whether it came from a
provider's webhook, a bounce mailbox or the embedded default's mail files, is recorded by
`apply_feedback`, once per message, kind and class. What it does to the address depends on the
class of the bounce:

- *dead* (`hard`: user unknown, no such domain, moved, disabled) marks the address bounced;
- *soft* (mailbox full, deferred, greylisted, or a failure that gives no reason) is counted, and
  `SOFT_BOUNCE_LIMIT` soft bounces of different messages within `SOFT_BOUNCE_WINDOW_DAYS`, with no
  delivery since, suspend the address until a later delivery clears it;
- *policy* (DMARC/SPF/DKIM, spam filters, blocked senders, rate limits, message too large) is
  recorded against the campaign only: the fault is the sender's, the address stays untouched;
- a complaint suppresses the address for that sender (for our own campaigns, for every sender).

A report is matched to its message by our token, by the original Message-ID, or by the recipient
plus the latest message sent to that address; one that matches none is not guessed at.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.models import Message, MessageEvent
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Contact, Suppression
from crm.suppression import suppress
from privacy.consent.preferences import unsubscribe
from privacy.models import ConsentEvent

# The classes of a bounce, stored in MessageEvent.detail ("hard" is the address-dead class).
DEAD, SOFT, POLICY = "hard", "soft", "policy"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """One thing the mail system says about one message: delivered, bounced, complained...

    `token` is our message token when the report carries it; otherwise `message_id` (the original
    Message-ID) or `recipient` (the address the report is about) find the message.
    """

    kind: str
    token: str = ""
    detail: str = ""
    at: datetime | None = None
    message_id: str = ""
    recipient: str = ""


def token_from_message_id(message_id: str) -> str:
    """Return the token of one of our Message-IDs (`<token@SITE_DOMAIN>`), or ""."""
    local, at, domain = (message_id or "").strip().strip("<>").partition("@")
    if not at or domain.lower() != settings.SITE_DOMAIN.lower():
        return ""
    return local if TOKEN_PATTERN.match(local) else ""


def find_message(feedback: Feedback) -> Message | None:
    """Return the message a piece of feedback is about, or None rather than a guess."""
    messages = Message.objects.select_related("campaign__client", "contact")
    tokens = [t for t in (feedback.token, token_from_message_id(feedback.message_id)) if t]
    if tokens:
        # The report names one of our messages: that one, or (not ours any more) none.
        return messages.filter(token__in=[t for t in tokens if TOKEN_PATTERN.match(t)]).first()
    recipient = (feedback.recipient or "").strip().strip("<>").lower()
    if "@" not in recipient or len(recipient) > 254:
        return None
    return (
        messages.filter(contact__email=recipient, sent_at__isnull=False)
        .order_by("-sent_at", "-id")
        .first()
    )


def apply_feedback(*, feedback: Feedback, channel: str) -> bool:
    """Record one piece of feedback once, with what it does to the address; say if it was new."""
    message = find_message(feedback)
    if message is None:
        return False
    at = feedback.at or timezone.now()
    with transaction.atomic():
        if MessageEvent.objects.filter(
            message=message, kind=feedback.kind, detail=feedback.detail
        ).exists():
            return False
        MessageEvent.objects.create(
            message=message,
            campaign=message.campaign,
            kind=feedback.kind,
            detail=feedback.detail,
            occurred_at=at,
        )
        contact = message.contact
        if contact is None:
            # Erased since: the campaign's counts stay true, and there is nobody to mark.
            return True
        kind = MessageEvent.Kind
        if feedback.kind == kind.BOUNCED and feedback.detail == DEAD:
            _set_status(contact, Contact.EmailStatus.BOUNCED, channel, {"hard_bounce": True})
        elif feedback.kind == kind.BOUNCED and feedback.detail == SOFT:
            _suspend_after_repeated_soft_bounces(contact, at=at, channel=channel)
        elif feedback.kind == kind.DELIVERED:
            _clear_suspension(contact, at=at, channel=channel)
        elif feedback.kind == kind.COMPLAINED:
            _suppress_for_sender(contact, message, channel=channel)
        elif feedback.kind == kind.UNSUBSCRIBED:
            unsubscribe(
                contact=contact,
                client=message.campaign.client,
                channel=ConsentEvent.Channel.UNSUBSCRIBE_LINK,
            )
    return True


def _set_status(contact: Contact, status: str, channel: str, details: dict) -> None:
    if contact.email_status == status:
        return
    Contact.objects.filter(pk=contact.pk).update(email_status=status)
    contact.email_status = status
    record_audit(
        actor=None,
        action=AuditEvent.Action.CHANGED,
        obj=contact,
        channel=channel,
        fields=["email_status"],
        details=details,
    )


def _contact_events(contact: Contact, kind: str):
    return MessageEvent.objects.filter(message__contact=contact, kind=kind)


def _suspend_after_repeated_soft_bounces(contact: Contact, *, at: datetime, channel: str) -> None:
    if contact.email_status != Contact.EmailStatus.VALID:
        return
    since = at - timedelta(days=settings.SOFT_BOUNCE_WINDOW_DAYS)
    delivered = _contact_events(contact, MessageEvent.Kind.DELIVERED).aggregate(
        last=Max("occurred_at")
    )["last"]
    if delivered and delivered > since:
        since = delivered
    soft = (
        _contact_events(contact, MessageEvent.Kind.BOUNCED)
        .filter(detail=SOFT, occurred_at__gt=since, occurred_at__lte=at)
        .values("message")
        .distinct()
        .count()
    )
    if soft >= settings.SOFT_BOUNCE_LIMIT:
        _set_status(contact, Contact.EmailStatus.SUSPENDED, channel, {"soft_bounces": soft})


def _clear_suspension(contact: Contact, *, at: datetime, channel: str) -> None:
    if contact.email_status != Contact.EmailStatus.SUSPENDED:
        return
    last_soft = (
        _contact_events(contact, MessageEvent.Kind.BOUNCED)
        .filter(detail=SOFT)
        .aggregate(last=Max("occurred_at"))["last"]
    )
    if last_soft is None or at >= last_soft:
        _set_status(contact, Contact.EmailStatus.VALID, channel, {"delivered_again": True})


def _suppress_for_sender(contact: Contact, message: Message, *, channel: str) -> None:
    if not contact.email:
        return
    client = message.campaign.client
    suppress(email=contact.email, reason=Suppression.Reason.COMPLAINT, client=client)
    record_audit(
        actor=None,
        action=AuditEvent.Action.CHANGED,
        obj=contact,
        channel=channel,
        details={"complaint": True, "client": client.pk if client else None},
    )
