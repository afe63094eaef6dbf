"""A/B test of two subject lines: a share of the audience first, the winner to everyone else.

When a campaign has a second subject, starting it splits a random share of its messages (ordered
by their random tokens) into two halves, "a" and "b", and holds the rest. After the chosen number
of hours the beat task compares the two halves by the share of sent messages that were opened (or
clicked) and releases the held messages with the winning subject; a tie goes to the first subject.
Opens are every recorded open: the tracking does not yet tell a person's open from a mail
scanner's, so "opens" counts both, for both halves alike. Each step is one transaction on the
locked campaign, so a decision runs once even when two beat runs overlap, and a released batch
that no worker took is picked up again by the stalled-sending check.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.models import Campaign, Message, MessageEvent
from campaigns.sending.batches import queue_batches
from campaigns.sending.states import CHANNEL, Status, locked_campaign
from core.audit import record_audit
from core.models import AuditEvent

logger = logging.getLogger(__name__)

VARIANTS = ("a", "b")
# Opens and clicks a person made, or that cannot be told (recorded before the distinction).
PEOPLES_ORIGINS = (MessageEvent.Origin.HUMAN, MessageEvent.Origin.UNKNOWN)
ENGAGEMENT = {
    Campaign.AbMetric.OPENS: MessageEvent.Kind.OPENED,
    Campaign.AbMetric.CLICKS: MessageEvent.Kind.CLICKED,
}


@dataclass(frozen=True)
class VariantResult:
    """One subject's messages sent and how many of them were opened or clicked."""

    variant: str
    sent: int
    engaged: int

    @property
    def rate(self) -> float:
        """Return the share of sent messages that were engaged with (0 when none was sent)."""
        return self.engaged / self.sent if self.sent else 0.0


def split_for_test(campaign: Campaign) -> int:
    """Give a random share of the campaign's queued messages subject a or b, hold the rest.

    Return how many were held. Runs inside the transaction that created the messages.
    """
    messages = Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED)
    total = messages.count()
    tested = max(2, round(total * campaign.ab_share / 100))
    ids = list(messages.order_by("token").values_list("pk", flat=True)[:tested])
    half = (len(ids) + 1) // 2
    Message.objects.filter(pk__in=ids[:half]).update(variant="a")
    Message.objects.filter(pk__in=ids[half:]).update(variant="b")
    return messages.filter(variant="").update(status=Message.Status.HELD)


def results(campaign: Campaign) -> list[VariantResult]:
    """Return each subject's sent and engaged messages, in one query."""
    kind = ENGAGEMENT[campaign.ab_metric]
    rows = (
        Message.objects.filter(campaign=campaign, variant__in=VARIANTS)
        .values("variant")
        .annotate(
            sent=Count("pk", filter=Q(status=Message.Status.SENT), distinct=True),
            engaged=Count(
                "pk",
                # A privacy proxy's or a scanner's open or click is no vote for a subject.
                filter=Q(
                    status=Message.Status.SENT,
                    events__kind=kind,
                    events__origin__in=PEOPLES_ORIGINS,
                ),
                distinct=True,
            ),
        )
        .order_by()
    )
    found = {row["variant"]: row for row in rows}
    return [
        VariantResult(v, found.get(v, {}).get("sent", 0), found.get(v, {}).get("engaged", 0))
        for v in VARIANTS
    ]


def winner_of(found: list[VariantResult]) -> str:
    """Return the variant with the higher rate; the first on a tie."""
    first, second = found
    return second.variant if second.rate > first.rate else first.variant


def decide(*, campaign_id: int, now: datetime | None = None) -> str | None:
    """Pick the winner of a campaign whose test time is over and release the held messages.

    Return the winning variant, or None when the campaign is not due (or decided already).
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = locked_campaign(campaign_id)
        due = campaign.started_at and campaign.started_at + timedelta(hours=campaign.ab_wait_hours)
        if campaign.status != Status.SENDING or campaign.ab_winner or not due or due > now:
            return None
        found = results(campaign)
        winner = winner_of(found)
        released = Message.objects.filter(campaign=campaign, status=Message.Status.HELD).update(
            status=Message.Status.QUEUED, variant=winner
        )
        campaign.ab_winner = winner
        campaign.ab_decided_at = now
        campaign.save(update_fields=["ab_winner", "ab_decided_at", "updated_at"])
        record_audit(
            actor=None,
            action=AuditEvent.Action.CHANGED,
            obj=campaign,
            channel=CHANNEL,
            fields=["ab_winner"],
            details={
                "ab_winner": winner,
                "released": released,
                **{f"{r.variant}_sent": r.sent for r in found},
                **{f"{r.variant}_engaged": r.engaged for r in found},
            },
        )
        queue_batches(campaign.pk)
    logger.info("Campaign %s: subject %s won; %s messages released", campaign_id, winner, released)
    return winner


def decide_due_tests(*, now: datetime | None = None) -> list[int]:
    """Decide every A/B test whose time is over; return the campaigns decided."""
    undecided = Campaign.objects.filter(status=Status.SENDING, ab_winner="").exclude(subject_b="")
    decided = []
    for campaign_id in undecided.values_list("pk", flat=True):
        if decide(campaign_id=campaign_id, now=now):
            decided.append(campaign_id)
    return decided
