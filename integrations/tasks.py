"""Celery tasks of the integrations app: thin callers of the functions that do the work."""

from celery import shared_task
from django.conf import settings

from integrations.delivery import (
    attempt_delivery,
    dispatch_pending_events,
    prune_delivery_log,
    queue_due_deliveries,
)
from integrations.notices import send_notice_mail


@shared_task(acks_late=True)  # each event is deleted as it fans out: a repeat finds nothing
def dispatch_events() -> int:
    """Turn the waiting outbound events into deliveries and art. 19 notices."""
    return dispatch_pending_events()


@shared_task(acks_late=True)  # an attempt is claimed first: a repeat finds it not due
def deliver(delivery_id: int) -> str:
    """Make one signed attempt at a delivery."""
    return attempt_delivery(delivery_id=delivery_id)


@shared_task(acks_late=True)
def deliver_due() -> int:
    """Queue the deliveries whose retry time has come."""
    return queue_due_deliveries()


@shared_task(acks_late=True)  # a notice already sent is not mailed again
def mail_recipient_notice(notice_id: int) -> bool:
    """Mail an art. 19 notice to a recipient's privacy contact."""
    return send_notice_mail(notice_id=notice_id)


@shared_task(acks_late=True)  # selects by age alone: a re-run deletes what is left
def prune_deliveries() -> int:
    """Delete the finished deliveries older than `WEBHOOK_LOG_DAYS`."""
    return prune_delivery_log(older_than_days=settings.WEBHOOK_LOG_DAYS)
