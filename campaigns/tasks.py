"""Celery tasks of campaign sending (the `sending` queue): thin callers of campaigns.sending.

`send_batch` is acknowledged late and rejected when its worker is lost, so a task whose worker
died is delivered again; that is safe because messages are claimed before they are sent (see
campaigns.sending). What follows a batch (its retries, the next batch, the end of the campaign)
is queued by `campaigns.sending.batches.run_batch`.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from campaigns.bounces.mailboxes import MailboxUnavailable, feed_mailbox
from campaigns.models import Campaign
from campaigns.sending import ab_test, batches, stalls, starting
from campaigns.sending.handover import SendingInterrupted

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def start_campaign(campaign_id: int, actor_id: int | None = None) -> int:
    """Start sending a campaign staff asked to send; return how many messages were created."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return starting.start_sending(campaign=Campaign(pk=campaign_id), actor=actor)
    except ValidationError:
        # Started, changed or cancelled meanwhile (a second click, another member of staff).
        logger.warning("Campaign %s could not start", campaign_id)
        return 0


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # A mail server away for about a day (retries every 32 minutes at most) ends the task; the
    # claims it held go back to the queue through resume_stalled_sending.
    max_retries=48,
    time_limit=10 * 60,
    soft_time_limit=9 * 60,
)
def send_batch(self, campaign_id: int) -> dict:
    """Send one batch of the campaign; retry the task while the mail server is unreachable."""
    try:
        outcome = batches.run_batch(campaign_id=campaign_id)
    except SendingInterrupted as exc:
        logger.warning("Campaign %s: mail server unreachable (%s); retrying", campaign_id, exc)
        attempt = self.request.retries + 1
        raise self.retry(countdown=batches.retry_delay(min(attempt, 6))) from exc
    return {
        "sent": outcome.sent,
        "skipped": outcome.skipped,
        "failed": outcome.failed,
        "retrying": len(outcome.retrying),
        "unknown": outcome.unknown,
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_messages(campaign_id: int, message_ids: list[int]) -> int:
    """Queue messages again after their backoff, and send them."""
    return batches.requeue_messages(campaign_id=campaign_id, message_ids=message_ids)


@shared_task
def start_scheduled_campaigns() -> list[int]:
    """Start the scheduled campaigns whose time has come (beat, every minute)."""
    return starting.start_due_campaigns()


@shared_task
def decide_ab_tests() -> list[int]:
    """Send the winning subject to the rest of each A/B test whose time is over (beat)."""
    return ab_test.decide_due_tests()


@shared_task
def resume_stalled_sending() -> dict:
    """Recover the claims of dead workers and resume or finish stalled campaigns (beat)."""
    report = stalls.resume_stalled_sending()
    return {
        "requeued": report.requeued,
        "unknown": report.unknown,
        "resumed": list(report.resumed),
        "finished": list(report.finished),
    }


@shared_task
def feed_bounce_mailbox() -> dict:
    """Record the bounces and complaints that arrived in the bounce mailbox (beat)."""
    if not settings.BOUNCE_MAILBOX:
        return {}
    try:
        return dict(feed_mailbox(settings.BOUNCE_MAILBOX))
    except MailboxUnavailable as exc:
        # Logged without the location, which may hold a password; the next run tries again.
        logger.warning("The bounce mailbox cannot be read: %s", type(exc.__cause__).__name__)
        return {"unavailable": 1}
