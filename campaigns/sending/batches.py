"""Batches of a sending campaign: claim, re-check, send, then queue the retries and what is next."""

import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.audience import eligible
from campaigns.models import Campaign, Message, TrackedLink
from campaigns.sending.handover import BatchOutcome, BatchSender
from campaigns.sending.states import Status, finish_if_done
from campaigns.tracking.mail import decide_tracking
from core.outbox import enqueue_on_commit
from crm.models import Contact

SKIPPED_REASON = "No longer in the audience when its turn came (opt-out, restriction, bounce)."
SEND_BATCH = "campaigns.tasks.send_batch"
REQUEUE_MESSAGES = "campaigns.tasks.requeue_messages"


def queue_batches(campaign_id: int, count: int | None = None) -> None:
    """Queue `count` (default SENDING_PARALLEL_BATCHES) batch tasks for the campaign on commit."""
    for _ in range(count or settings.SENDING_PARALLEL_BATCHES):
        enqueue_on_commit(SEND_BATCH, campaign_id)


def run_batch(*, campaign_id: int) -> BatchOutcome:
    """Send one batch, queue its retries after their backoff, then the next batch or finish.

    This is what each batch task does, so a campaign keeps SENDING_PARALLEL_BATCHES batches going
    until nothing is queued. Raise SendingInterrupted, queueing nothing, when the mail server
    cannot be reached (the task retries then).
    """
    outcome = send_batch(campaign_id=campaign_id)
    with transaction.atomic():
        if outcome.retrying:
            attempts = max(
                Message.objects.filter(pk__in=outcome.retrying).values_list("attempts", flat=True)
            )
            enqueue_on_commit(
                REQUEUE_MESSAGES,
                campaign_id,
                list(outcome.retrying),
                countdown=retry_delay(attempts),
            )
        more = has_queued(campaign_id)
        if more:
            enqueue_on_commit(SEND_BATCH, campaign_id)
    if not more:
        finish_if_done(campaign_id)
    return outcome


def requeue_messages(*, campaign_id: int, message_ids: list[int]) -> int:
    """Queue messages again after their backoff, and a batch to send them; return how many."""
    with transaction.atomic():
        requeued = requeue_for_retry(message_ids)
        if requeued:
            enqueue_on_commit(SEND_BATCH, campaign_id)
    return requeued


def claim_batch(campaign_id: int, size: int) -> list[int]:
    """Claim up to `size` queued messages of the campaign for this worker; commit; return ids.

    PostgreSQL skips rows another worker is claiming at the same moment (SKIP LOCKED); SQLite
    takes its write lock when the transaction begins, so claims there simply queue.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=Message.Status.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, claimed_at=now, sent_at=None
        )
    return ids


def send_batch(
    *,
    campaign_id: int,
    size: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchOutcome:
    """Claim one batch, re-check its recipients, send each message once; return the outcome.

    Raise SendingInterrupted when the mail server cannot be reached: the untried messages are
    back in the queue then.
    """
    campaign = Campaign.objects.select_related("purpose", "client", "layout").get(pk=campaign_id)
    if campaign.status != Status.SENDING:
        return BatchOutcome()
    ids = claim_batch(campaign_id, size or settings.SENDING_BATCH_SIZE)
    if not ids:
        return BatchOutcome()
    messages = list(Message.objects.filter(pk__in=ids).order_by("pk"))
    recipients = _still_eligible(campaign, [m.contact_id for m in messages if m.contact_id])
    skipped = [m.pk for m in messages if m.contact_id not in recipients]
    if skipped:
        Message.objects.filter(pk__in=skipped).update(
            status=Message.Status.SKIPPED, error=SKIPPED_REASON
        )
    to_send = [m for m in messages if m.contact_id in recipients]
    if not to_send:
        return BatchOutcome(skipped=len(skipped))
    decide_tracking(campaign, to_send)
    link_ids = dict(TrackedLink.objects.filter(campaign=campaign).values_list("url", "pk"))
    sender = BatchSender(campaign, link_ids, sleep)
    outcome = sender.send_all(to_send, recipients)
    return BatchOutcome(
        sent=outcome.sent,
        skipped=len(skipped),
        failed=outcome.failed,
        retrying=outcome.retrying,
        unknown=outcome.unknown,
        released=outcome.released,
    )


def _still_eligible(campaign: Campaign, contact_ids: list[int]) -> dict[int, Contact]:
    """Return the contacts among these that the campaign may still be sent to, by id."""
    contacts = eligible(
        Contact.objects.filter(pk__in=contact_ids).order_by(),
        purpose=campaign.purpose,
        client=campaign.client,
    ).select_related("company")
    contacts = contacts.only("pk", "first_name", "last_name", "language", "email", "company__name")
    return {contact.pk: contact for contact in contacts}


def requeue_for_retry(message_ids: Iterable[int]) -> int:
    """Put messages waiting after a temporary refusal back in the queue; return how many."""
    return Message.objects.filter(
        pk__in=list(message_ids), status=Message.Status.SENDING, sent_at__isnull=True
    ).update(status=Message.Status.QUEUED, claimed_at=None)


def retry_delay(attempts: int) -> int:
    """Return the seconds to wait before the next try: the backoff doubled per earlier attempt."""
    return settings.SENDING_RETRY_BACKOFF * 2 ** max(0, attempts - 1)


def has_queued(campaign_id: int) -> bool:
    """Say whether the campaign still has messages waiting for a batch."""
    return Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED).exists()
