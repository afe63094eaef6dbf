"""The privacy dashboard on the admin index: requests, consents, retention and breaches at a glance.

Each block is computed only for staff allowed to open the screen behind it, so the index never
shows a number its reader could not look up. Every figure is a count (DESIGN rule 5): no names.
The consent chart is one aggregate query whatever the size of the ledger; the retention count
scans big tables, so it is cached for ten minutes in the shared cache.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from privacy.accountability.breaches import deadline_status
from privacy.deletion.retention import RULE_KINDS, preview
from privacy.models import Breach, ConsentEvent, RetentionRule
from privacy.requests.digest import requests_needing_attention

WEEKS = 12
RETENTION_CACHE_KEY = "privacy:dashboard:retention-due"
RETENTION_CACHE_SECONDS = 10 * 60
RECENT_BREACHES = 5

# Chart geometry, in SVG user units; the SVG scales to the width of its box.
CHART_WIDTH = 600
CHART_HEIGHT = 180
CHART_TOP = 18  # room for the value over the tallest bar
CHART_BOTTOM = 22  # room for the week labels
BAR_WIDTH = 16


@dataclass(frozen=True)
class RequestCounts:
    """Open data-subject requests and how many are overdue or due within 7 days."""

    open: int
    overdue: int
    due_within_7_days: int


@dataclass(frozen=True)
class ConsentWeek:
    """Consents granted and withdrawn in one week (Monday to Sunday, local time)."""

    starts_on: date
    granted: int
    withdrawn: int


@dataclass(frozen=True)
class Bar:
    """One bar of the chart, in SVG user units."""

    x: int
    y: int
    height: int
    center: int
    value: int


@dataclass(frozen=True)
class WeekColumn:
    """One week of the chart: its label, its two bars and where the label sits."""

    week: ConsentWeek
    label: str
    label_x: int
    granted: Bar
    withdrawn: Bar


@dataclass(frozen=True)
class ConsentChart:
    """The last weeks of the consent ledger, with the geometry of an SVG bar chart."""

    weeks: list[ConsentWeek]
    columns: list[WeekColumn]
    width: int
    height: int
    baseline: int
    label_y: int
    bar_width: int
    granted: int
    withdrawn: int
    summary: str


@dataclass(frozen=True)
class RetentionDue:
    """People and records the active retention rules would remove now, counted at `counted_at`."""

    count: int
    counted_at: datetime
    rules: int
    # Active rules whose kind this version of the code does not know (privacy_check names them).
    uncounted: int


@dataclass(frozen=True)
class BreachLine:
    """A recent breach and where its 72-hour clock stands."""

    pk: int
    title: str
    detected_at: datetime
    authority_deadline: datetime
    closed: bool
    # In the breach screen's own words: "40 h 12 min left", "OVERDUE by 3 h", "told on …".
    status: str
    # Not told, not closed: the clock is running or has run out.
    waiting: bool


@dataclass(frozen=True)
class Dashboard:
    """What one staff member's admin index shows; None for a block they may not see."""

    requests: RequestCounts | None
    consents: ConsentChart | None
    retention: RetentionDue | None
    breaches: list[BreachLine] | None

    @property
    def is_empty(self) -> bool:
        """Say whether there is no block at all to show."""
        blocks = (self.requests, self.consents, self.retention, self.breaches)
        return all(block is None for block in blocks)


def dashboard_for(
    user: AbstractBaseUser | AnonymousUser, *, now: datetime | None = None
) -> Dashboard:
    """Return the dashboard blocks the user may see, each computed once."""
    now = now or timezone.now()
    return Dashboard(
        requests=request_counts(now=now) if user.has_perm("privacy.view_subjectrequest") else None,
        consents=consent_chart(consent_weeks(now=now))
        if user.has_perm("privacy.view_consentevent")
        else None,
        retention=retention_due() if user.has_perm("privacy.view_retentionrule") else None,
        breaches=recent_breaches(now=now) if user.has_perm("privacy.view_breach") else None,
    )


def request_counts(*, now: datetime) -> RequestCounts:
    """Count open requests, overdue ones and those due within 7 days, in one query."""
    counts = (
        requests_needing_attention()
        .order_by()
        .annotate(deadline_at=Coalesce("extended_due_at", "due_at"))
        .aggregate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(deadline_at__lt=now)),
            soon=Count(
                "pk", filter=Q(deadline_at__gte=now, deadline_at__lt=now + timedelta(days=7))
            ),
        )
    )
    return RequestCounts(
        open=counts["open"], overdue=counts["overdue"], due_within_7_days=counts["soon"]
    )


def week_starts(*, now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """Return the local midnights of the Mondays starting the last `weeks` weeks, oldest first."""
    today = timezone.localdate(now)
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    zone = timezone.get_current_timezone()
    return [datetime.combine(monday, datetime.min.time(), tzinfo=zone) for monday in mondays]


def consent_weeks(*, now: datetime, weeks: int = WEEKS) -> list[ConsentWeek]:
    """Count grants and withdrawals per week over the last `weeks` weeks, in one query."""
    starts = week_starts(now=now, weeks=weeks)
    ends = [*starts[1:], starts[-1] + timedelta(weeks=1)]
    # Conditional counts over one range scan: one query however many events, DST-proof bounds.
    in_range = ConsentEvent.objects.filter(occurred_at__gte=starts[0], occurred_at__lt=ends[-1])
    counts = in_range.aggregate(
        **{
            f"{name}_{i}": Count(
                "pk", filter=Q(action=action, occurred_at__gte=start, occurred_at__lt=end)
            )
            for i, (start, end) in enumerate(zip(starts, ends, strict=True))
            for name, action in (
                ("granted", ConsentEvent.Action.GRANT),
                ("withdrawn", ConsentEvent.Action.WITHDRAW),
            )
        }
    )
    return [
        ConsentWeek(
            starts_on=start.date(),
            granted=counts[f"granted_{i}"],
            withdrawn=counts[f"withdrawn_{i}"],
        )
        for i, start in enumerate(starts)
    ]


def consent_chart(weeks: list[ConsentWeek]) -> ConsentChart:
    """Lay the weeks out as a bar chart: a granted and a withdrawn bar per week."""
    tallest = max((max(w.granted, w.withdrawn) for w in weeks), default=0) or 1
    baseline = CHART_HEIGHT - CHART_BOTTOM
    room = baseline - CHART_TOP
    slot = CHART_WIDTH // max(len(weeks), 1)

    def bar(x: int, value: int) -> Bar:
        height = round(room * value / tallest)
        return Bar(x=x, y=baseline - height, height=height, center=x + BAR_WIDTH // 2, value=value)

    columns = []
    for i, week in enumerate(weeks):
        left = i * slot + (slot - 2 * BAR_WIDTH) // 2
        columns.append(
            WeekColumn(
                week=week,
                label=f"{week.starts_on.day} {week.starts_on:%b}",
                label_x=i * slot + slot // 2,
                granted=bar(left, week.granted),
                withdrawn=bar(left + BAR_WIDTH, week.withdrawn),
            )
        )
    granted = sum(w.granted for w in weeks)
    withdrawn = sum(w.withdrawn for w in weeks)
    summary = (
        f"Consents per week over the last {len(weeks)} weeks: {granted} granted and "
        f"{withdrawn} withdrawn in total"
    )
    if weeks:
        last = weeks[-1]
        summary += f"; this week {last.granted} granted and {last.withdrawn} withdrawn."
    return ConsentChart(
        weeks=weeks,
        columns=columns,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        baseline=baseline,
        label_y=CHART_HEIGHT - 6,
        bar_width=BAR_WIDTH,
        granted=granted,
        withdrawn=withdrawn,
        summary=summary,
    )


def retention_due() -> RetentionDue:
    """Return what the active rules would remove now; counted at most every ten minutes."""
    cached = cache.get(RETENTION_CACHE_KEY)
    if cached is not None:
        return RetentionDue(
            **{**cached, "counted_at": datetime.fromisoformat(cached["counted_at"])}
        )
    active = list(RetentionRule.objects.filter(is_active=True))
    known = [rule for rule in active if rule.kind in RULE_KINDS]
    due = RetentionDue(
        count=sum(preview(rule)["now"] for rule in known),
        counted_at=timezone.now(),
        rules=len(known),
        uncounted=len(active) - len(known),
    )
    # Plain values: the cache is Redis in production, shared by every web process.
    value = {**asdict(due), "counted_at": due.counted_at.isoformat()}
    cache.set(RETENTION_CACHE_KEY, value, RETENTION_CACHE_SECONDS)
    return due


def recent_breaches(*, now: datetime, limit: int = RECENT_BREACHES) -> list[BreachLine]:
    """Return the latest breaches by detection time, with where their 72-hour clock stands."""
    return [
        BreachLine(
            pk=breach.pk,
            title=breach.title,
            detected_at=breach.detected_at,
            authority_deadline=breach.authority_deadline,
            closed=breach.closed_at is not None,
            status=deadline_status(breach, now=now),
            waiting=breach.authority_notified_at is None and breach.closed_at is None,
        )
        for breach in Breach.objects.order_by("-detected_at", "-pk")[:limit]
    ]
