"""Events recorded straight from a person's own act, outside the tracking buffer."""

from django.db import transaction
from django.utils import timezone

from campaigns.models import Message, MessageEvent


def record_unsubscribe(*, message_token: str, contact_id: int, client_id: int | None) -> bool:
    """Record that the message's person unsubscribed through it, once; say if it was recorded.

    The token counts only when it names a message to that person from that sender, so a token
    pasted onto someone else's unsubscribe link records nothing.
    """
    message = Message.objects.filter(
        token=message_token, contact_id=contact_id, campaign__client_id=client_id
    ).first()
    if message is None:
        return False
    with transaction.atomic():
        if message.events.filter(kind=MessageEvent.Kind.UNSUBSCRIBED).exists():
            return False
        MessageEvent.objects.create(
            message=message,
            campaign_id=message.campaign_id,
            kind=MessageEvent.Kind.UNSUBSCRIBED,
            occurred_at=timezone.now(),
        )
    return True
