"""Mail written to files, reported delivered the way a provider reports it (the embedded default).

On one box (`make run`) campaign mail goes to files under `var/mail/` instead of a mail server. A
provider would tell us through its webhook that each message arrived; the file backend is the
final destination, so once a message is written it records the same delivery event through the
same function the webhook and the bounce mailbox use (`campaigns.bounces.apply_feedback`). The
campaign report then counts deliveries on the embedded default as it does in production.
"""

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

from campaigns.bounces import Feedback, apply_feedback
from campaigns.models import MessageEvent
from core.models import AuditEvent


class FileDeliveryBackend(EmailBackend):
    """Write messages to files like Django's file backend, then record campaign mail delivered."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        written = super().send_messages(email_messages)
        if written:
            record_local_deliveries(email_messages)
        return written


def record_local_deliveries(email_messages: list[EmailMessage]) -> int:
    """Record a delivery for every campaign message among these written mails; return how many."""
    recorded = 0
    for email in email_messages:
        # The headers as set by `build_email`: no need to render the whole message again.
        token = (email.extra_headers.get("X-CRM-Message") or "").strip()
        if token and apply_feedback(
            feedback=Feedback(token=token, kind=MessageEvent.Kind.DELIVERED),
            channel=AuditEvent.Channel.CAMPAIGNS,
        ):
            recorded += 1
    return recorded
