"""Deliveries, bounces and complaints reported by the mail system (GDPR art. 5(1)(d), 21(3)).

Two ways in: a provider's signed webhook (one provider format per class, chosen by
`EMAIL_WEBHOOK_PROVIDER` from `PROVIDERS`; Mailgun's is implemented) and delivery status
notifications (RFC 3464) or spam complaints (ARF, RFC 5965) read from an mbox file. Both find the
message by the `X-CRM-Message` header or the `<token@…>` Message-ID every campaign e-mail carries.

A hard bounce marks the address invalid (`email_status` bounced: no campaign reaches it again until
staff correct it) and a soft one is only counted; a complaint suppresses the address for that
sender: the campaign's client, or, for our own campaigns, every sender (a suppression without a
client is global). Each fact is
recorded once per message, so a webhook delivered twice or an mbox read again changes nothing more.
A webhook whose signature is wrong, whose timestamp is stale or whose token was seen already is
refused and records nothing.
"""

import email
import hashlib
import hmac
import json
import mailbox
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message as MailMessage
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from campaigns.models import Message, MessageEvent, WebhookNonce
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Contact, Suppression
from crm.suppression import suppress

HARD, SOFT = "hard", "soft"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class WebhookRefused(Exception):
    """A webhook request that is not provably the provider's, or a replay of one."""


@dataclass(frozen=True)
class Feedback:
    """One thing the mail system says about one message: delivered, bounced or complained."""

    token: str
    kind: str
    detail: str = ""
    at: datetime | None = None


# Recording --------------------------------------------------------------------------------------


def token_from_headers(headers: MailMessage) -> str:
    """Return the message token of returned headers (X-CRM-Message or Message-ID), or ""."""
    token = (headers.get("X-CRM-Message") or "").strip()
    if not token:
        message_id = (headers.get("Message-ID") or "").strip().strip("<>")
        token = message_id.split("@", 1)[0] if "@" in message_id else ""
    return token if TOKEN_PATTERN.match(token) else ""


def apply_feedback(*, feedback: Feedback, channel: str) -> bool:
    """Record one piece of feedback once; say whether anything new was recorded."""
    message = (
        Message.objects.select_related("campaign__client", "contact")
        .filter(token=feedback.token)
        .first()
    )
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
        if feedback.kind == MessageEvent.Kind.BOUNCED and feedback.detail == HARD:
            _mark_bounced(contact, channel=channel)
        elif feedback.kind == MessageEvent.Kind.COMPLAINED:
            _suppress_for_sender(contact, message, channel=channel)
    return True


def _mark_bounced(contact: Contact, *, channel: str) -> None:
    if contact.email_status == Contact.EmailStatus.BOUNCED:
        return
    Contact.objects.filter(pk=contact.pk).update(email_status=Contact.EmailStatus.BOUNCED)
    record_audit(
        actor=None,
        action=AuditEvent.Action.CHANGED,
        obj=contact,
        channel=channel,
        fields=["email_status"],
        details={"hard_bounce": True},
    )


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


# Provider webhooks ------------------------------------------------------------------------------


class Provider(Protocol):
    """One provider's webhook format: how its requests are signed and what they report."""

    name: str

    def verify(self, body: dict) -> tuple[str, int]:
        """Return the request's one-time token and its timestamp; raise WebhookRefused."""
        ...

    def feedback(self, body: dict) -> list[Feedback]:
        """Return what a verified request reports."""
        ...


class Mailgun:
    """Mailgun's webhooks: JSON with `signature` (HMAC-SHA256 of timestamp + token, hex, keyed
    with the webhook signing key) and `event-data` (event, severity, message headers)."""

    name = "mailgun"

    def verify(self, body: dict) -> tuple[str, int]:
        key = settings.MAILGUN_WEBHOOK_SIGNING_KEY
        if not key:
            raise WebhookRefused("The webhook signing key is not configured.")
        try:
            signed = body["signature"]
            timestamp, token, signature = (
                str(signed["timestamp"]),
                str(signed["token"]),
                str(signed["signature"]),
            )
            moment = int(timestamp)
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookRefused("The request carries no valid signature.") from exc
        expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise WebhookRefused("The signature does not match.")
        return token, moment

    def feedback(self, body: dict) -> list[Feedback]:
        data = body.get("event-data") or {}
        headers = (data.get("message") or {}).get("headers") or {}
        token = token_from_headers(_Headers(headers))
        if not token:
            return []
        at = None
        if isinstance(data.get("timestamp"), int | float):
            at = datetime.fromtimestamp(data["timestamp"], tz=UTC)
        event = data.get("event")
        if event == "delivered":
            return [Feedback(token=token, kind=MessageEvent.Kind.DELIVERED, at=at)]
        if event == "failed":
            detail = HARD if data.get("severity") == "permanent" else SOFT
            return [Feedback(token=token, kind=MessageEvent.Kind.BOUNCED, detail=detail, at=at)]
        if event == "complained":
            return [Feedback(token=token, kind=MessageEvent.Kind.COMPLAINED, at=at)]
        return []


class _Headers(dict):
    """Provider headers as a case-insensitive mapping with `get`, like an e-mail's."""

    def __init__(self, headers: dict):
        super().__init__({str(k).lower(): str(v) for k, v in headers.items()})

    def get(self, name, default=None):
        return super().get(name.lower(), default)


PROVIDERS: dict[str, Provider] = {"mailgun": Mailgun()}


def receive_webhook(request: HttpRequest) -> int:
    """Verify a provider request and record what it reports; return how many facts were new."""
    provider = PROVIDERS.get(settings.EMAIL_WEBHOOK_PROVIDER)
    if provider is None:
        raise WebhookRefused("No such e-mail provider is configured.")
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise WebhookRefused("The request is not JSON.") from exc
    if not isinstance(body, dict):
        raise WebhookRefused("The request is not a provider event.")
    nonce, moment = provider.verify(body)
    now = timezone.now()
    max_age = settings.EMAIL_WEBHOOK_MAX_AGE
    if abs(now.timestamp() - moment) > max_age:
        raise WebhookRefused("The request is too old or from the future.")
    with transaction.atomic():
        # Tokens older than the window are refused by their timestamp already.
        WebhookNonce.objects.filter(received_at__lt=now - timedelta(seconds=2 * max_age)).delete()
        try:
            with transaction.atomic():
                WebhookNonce.objects.create(
                    provider=provider.name, nonce=nonce[:128], received_at=now
                )
        except IntegrityError as exc:
            raise WebhookRefused("This request was received already.") from exc
        return sum(
            apply_feedback(feedback=item, channel="webhook") for item in provider.feedback(body)
        )


# Mailbox files ----------------------------------------------------------------------------------

_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")


def read_report(mail: MailMessage) -> list[Feedback]:
    """Return the feedback a DSN (RFC 3464) or spam report (RFC 5965) carries; [] for other mail."""
    if mail.get_content_type() != "multipart/report":
        return []
    report_type = (mail.get_param("report-type") or "").lower()
    token = ""
    recipients: list[MailMessage] = []
    for part in mail.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            # The first block is about the report, each further one about a recipient.
            recipients = [b for b in part.get_payload()[1:] if isinstance(b, MailMessage)]
        elif kind == "message/rfc822" and not token:
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                token = token_from_headers(inner[0])
        elif kind == "text/rfc822-headers" and not token:
            returned = email.message_from_string(
                part.get_payload(decode=True).decode("utf-8", "replace")
            )
            token = token_from_headers(returned)
    if not token:
        return []
    if report_type == "feedback-report":
        return [Feedback(token=token, kind=MessageEvent.Kind.COMPLAINED)]
    if report_type != "delivery-status":
        return []
    for block in recipients:
        action = (block.get("Action") or "").strip().lower()
        status = _STATUS.match(block.get("Status") or "")
        if action == "failed":
            detail = SOFT if status and status.group(1) == "4" else HARD
            return [Feedback(token=token, kind=MessageEvent.Kind.BOUNCED, detail=detail)]
        if action == "delayed":
            return [Feedback(token=token, kind=MessageEvent.Kind.BOUNCED, detail=SOFT)]
        if action in ("delivered", "relayed"):
            return [Feedback(token=token, kind=MessageEvent.Kind.DELIVERED)]
    return []


def feed_mbox(path: Path) -> Counter:
    """Record the feedback of every report in an mbox file, each in its own transaction.

    Return counts: recorded, already (recorded before), unmatched (no message of ours), other
    (mail that is not a report). Safe to run again on the same file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"No mailbox file at {path}.")
    outcome: Counter = Counter()
    box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f))
    try:
        for mail in box:
            items = read_report(mail)
            if not items:
                outcome["other"] += 1
                continue
            for item in items:
                if not Message.objects.filter(token=item.token).exists():
                    outcome["unmatched"] += 1
                elif apply_feedback(feedback=item, channel="mailbox"):
                    outcome["recorded"] += 1
                else:
                    outcome["already"] += 1
    finally:
        box.close()
    return outcome
