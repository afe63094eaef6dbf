"""How far a campaign's sending has come: sent, skipped, failed, to go, and when it should end."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign, Message
from core.progress import text_bar


@dataclass(frozen=True)
class SendingProgress:
    """Counts of one campaign's messages, and an estimate of the time left from the pace so far."""

    sent: int
    skipped: int
    failed: int
    to_go: int
    finished: bool
    left: timedelta | None

    @property
    def total(self) -> int:
        return self.sent + self.skipped + self.failed + self.to_go

    @property
    def done(self) -> int:
        return self.sent + self.skipped + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    @property
    def left_text(self) -> str:
        return describe(self.left) if self.left else ""

    def bar(self) -> str:
        """Return a text progress bar with the counts, for a terminal."""
        left = f", about {describe(self.left)} left" if self.left else ""
        return (
            f"{text_bar(self.done, self.total)}  sent {self.sent}, skipped {self.skipped}, "
            f"failed {self.failed}, to go {self.to_go}{left}"
        )


def describe(span: timedelta) -> str:
    """Say a duration the way people read it: seconds, minutes or hours."""
    seconds = max(1, round(span.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def sending_progress(campaign: Campaign, *, now: datetime | None = None) -> SendingProgress:
    """Count the campaign's messages by outcome and estimate the time left (one query)."""
    rows = Message.objects.filter(campaign=campaign).order_by().values("status")
    counts = {row["status"]: row["n"] for row in rows.annotate(n=Count("pk"))}
    sent = counts.get(Message.Status.SENT, 0)
    skipped = counts.get(Message.Status.SKIPPED, 0)
    failed = counts.get(Message.Status.FAILED, 0)
    to_go = counts.get(Message.Status.QUEUED, 0) + counts.get(Message.Status.SENDING, 0)
    done = sent + skipped + failed
    left = None
    now = now or timezone.now()
    if to_go and done and campaign.started_at is not None:
        elapsed = (now - campaign.started_at).total_seconds()
        if elapsed > 0:
            left = timedelta(seconds=to_go * elapsed / done)
    finished = campaign.status in (Campaign.Status.SENT, Campaign.Status.CANCELLED)
    return SendingProgress(sent, skipped, failed, to_go, finished, left)
