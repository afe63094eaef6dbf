"""Watching over sending: what dead workers left is queued again, settled, resumed or finished."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from campaigns.models import Campaign, Message
from campaigns.sending.batches import queue_batches
from campaigns.sending.handover import UNKNOWN_OUTCOME
from campaigns.sending.states import Status, finish_if_done

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StallReport:
    """What one pass over the sending campaigns did."""

    requeued: int
    unknown: int
    resumed: tuple[int, ...]
    finished: tuple[int, ...]


def resume_stalled_sending(
    *, lease_seconds: int | None = None, now: datetime | None = None
) -> StallReport:
    """Recover what dead workers left: requeue untried claims, settle unsure ones, finish, resume.

    A claim older than the lease belongs to a worker that died (a live batch ends within its time
    limit, which is shorter). Its messages never handed over are queued again; one caught in the
    hand-over is marked failed with an unknown outcome (never resent). A sending campaign with
    queued messages and no claim within the lease gets its batches queued again; one with nothing
    left to send is marked sent.
    """
    now = now or timezone.now()
    lease = settings.SENDING_CLAIM_LEASE if lease_seconds is None else lease_seconds
    stale = Q(status=Message.Status.SENDING, claimed_at__lte=now - timedelta(seconds=lease))
    sending = Message.objects.filter(campaign__status=Status.SENDING)
    requeued = sending.filter(stale, sent_at__isnull=True).update(
        status=Message.Status.QUEUED, claimed_at=None
    )
    unknown = sending.filter(stale, sent_at__isnull=False).update(
        status=Message.Status.FAILED, error=UNKNOWN_OUTCOME
    )
    resumed, finished = [], []
    for campaign_id in Campaign.objects.filter(status=Status.SENDING).values_list("pk", flat=True):
        if finish_if_done(campaign_id):
            finished.append(campaign_id)
            continue
        last_claim = Message.objects.filter(campaign_id=campaign_id).aggregate(
            last=Max("claimed_at")
        )["last"]
        queued = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED)
        if queued.exists() and (last_claim is None or last_claim <= now - timedelta(seconds=lease)):
            queue_batches(campaign_id)
            resumed.append(campaign_id)
    if requeued or unknown or resumed:
        logger.warning(
            "Stalled sending: %s messages requeued, %s with unknown outcome, campaigns resumed %s",
            requeued,
            unknown,
            resumed,
        )
    return StallReport(requeued, unknown, tuple(resumed), tuple(finished))
