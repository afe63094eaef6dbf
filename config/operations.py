"""The state of the machinery, for administrators and monitoring: what runs, waits and failed.

One report read by the admin's operations page and by `manage.py health`: the broker's queues and
their depth, beat's heartbeat and every periodic task's last run, outcome and next due time, the
outbox backlog, tasks that failed in the last day, retention rules whose last run failed, and
campaign mail that could not be sent. A line is *overdue* (red) when something silently stopped:
beat quiet for longer than its shortest schedule (plus `OPERATIONS_BEAT_SLACK_SECONDS`), a periodic
task not started `OPERATIONS_TASK_GRACE_SECONDS` after it was due, an outbox entry older than
`OPERATIONS_OUTBOX_MAX_AGE_SECONDS`, a periodic task or retention rule whose last run failed, or
an unreachable broker. The report holds names of tasks, queues, rules and campaigns, counts and
times: never anyone's data.

Each section is one function in `SECTIONS`; a new kind of machinery adds its own function there
and the page and the command show it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.schedules import crontab, schedule
from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from kombu.exceptions import ChannelError

from campaigns.models import Message
from config.celery import app as celery_app
from core.models import OutboxTask, TaskFailure, TaskRun
from core.task_runs import beat_last_sent
from integrations.endpoints import failing_endpoints
from privacy.models import RetentionRule, RetentionRun

OK, WARNING, OVERDUE = "ok", "warning", "overdue"


@dataclass(frozen=True)
class Line:
    """One line of the report: what it is about, what it says, and how worrying it is."""

    name: str
    value: str
    status: str = OK
    detail: str = ""


@dataclass(frozen=True)
class Section:
    """A titled group of lines."""

    title: str
    lines: list[Line] = field(default_factory=list)
    empty: str = "Nothing to show."


@dataclass(frozen=True)
class OperationsReport:
    """Every section, and when it was read."""

    at: datetime
    sections: list[Section]

    @property
    def overdue(self) -> list[Line]:
        """Return the lines that are overdue (red)."""
        return [line for s in self.sections for line in s.lines if line.status == OVERDUE]


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _local(moment: datetime | None) -> str:
    return "—" if moment is None else timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def next_due(every: float | timedelta | schedule | crontab, after: datetime) -> datetime:
    """Return when a schedule is next due after a moment (beat's own arithmetic)."""
    if isinstance(every, int | float):
        every = timedelta(seconds=every)
    if isinstance(every, timedelta):
        return after + every
    if isinstance(every, schedule) and not isinstance(every, crontab):
        return after + every.run_every
    every.app = celery_app
    start, delta, _ = every.remaining_delta(after)
    return start + delta


def interval(every: float | timedelta | schedule | crontab, now: datetime) -> timedelta:
    """Return the time between two runs of a schedule (for a crontab, the next two)."""
    first = next_due(every, now)
    return next_due(every, first) - first


def shortest_schedule(now: datetime) -> timedelta:
    """Return the shortest interval of beat's schedule: beat is heard at least this often."""
    return min(interval(e["schedule"], now) for e in settings.CELERY_BEAT_SCHEDULE.values())


def queue_depths() -> dict[str, int] | None:
    """Return the messages waiting in each queue, or None when the broker is unreachable."""
    names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
    try:
        with celery_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel = conn.default_channel
            depths = {}
            for name in names:
                try:
                    depths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except ChannelError:
                    depths[name] = 0  # never declared: nothing ever waited there
            return depths
    except Exception:  # any failure to reach the broker is the answer
        return None


def queues_section(now: datetime) -> Section:
    """The broker's queues and how many messages wait in each."""
    depths = queue_depths()
    if depths is None:
        return Section("Queues", [Line("Broker", "unreachable", OVERDUE, "No queue can be read.")])
    return Section("Queues", [Line(name, f"{depth} waiting") for name, depth in depths.items()])


def periodic_section(now: datetime) -> Section:
    """Beat's heartbeat, and each periodic task's last run, outcome and next due time."""
    try:
        alive_at, sent = beat_last_sent()
    except Exception as exc:  # the cache, where beat's heartbeat is kept, is unreachable
        alive_at, sent, unknown = None, {}, type(exc).__name__
    else:
        unknown = ""
    shortest = shortest_schedule(now)
    silent_limit = shortest + timedelta(seconds=settings.OPERATIONS_BEAT_SLACK_SECONDS)
    beat_quiet = alive_at is None or now - alive_at > silent_limit
    lines = [
        Line(
            "Beat",
            "unknown",
            OVERDUE,
            f"The cache holding beat's heartbeat is unreachable ({unknown}).",
        )
        if unknown
        else Line(
            "Beat",
            f"last heard {_ago(alive_at, now)}",
            OVERDUE if beat_quiet else OK,
            f"Beat is silent: nothing sent for longer than its shortest schedule "
            f"({int(shortest.total_seconds())} s); periodic work has stopped."
            if beat_quiet
            else f"Sends at least every {int(shortest.total_seconds())} s.",
        )
    ]
    runs = {run.task: run for run in TaskRun.objects.all()}
    grace = timedelta(seconds=settings.OPERATIONS_TASK_GRACE_SECONDS)
    for entry_name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        run = runs.get(entry["task"])
        started = run.started_at if run else None
        due = next_due(entry["schedule"], started) if started else None
        status, detail = OK, ""
        if run and run.outcome == TaskRun.Outcome.FAILED:
            status, detail = OVERDUE, f"Last run failed ({run.error})."
        elif due and now > due + grace and run.outcome != TaskRun.Outcome.RUNNING:
            status, detail = OVERDUE, f"Due at {_local(due)} and not started since."
        sent_at = sent.get(entry["task"])
        if run:
            value = f"{run.get_outcome_display().lower()}, started {_ago(started, now)}"
        else:
            value = "not run yet"
            due = next_due(entry["schedule"], sent_at or now)
        value += f"; next due {_local(due)}"
        lines.append(
            Line(entry_name, value, status, detail or f"Last sent by beat {_ago(sent_at, now)}.")
        )
    return Section("Periodic tasks", lines)


def outbox_section(now: datetime) -> Section:
    """Tasks queued while the broker was unreachable, waiting for the outbox publisher."""
    backlog = OutboxTask.objects.aggregate(count=Count("id"), oldest=Min("created_at"))
    oldest = backlog["oldest"]
    limit = timedelta(seconds=settings.OPERATIONS_OUTBOX_MAX_AGE_SECONDS)
    late = oldest is not None and now - oldest > limit
    line = Line(
        "Outbox",
        f"{backlog['count']} waiting, oldest queued {_ago(oldest, now)}"
        if oldest
        else "nothing waiting",
        OVERDUE if late else OK,
        f"An entry waits longer than {int(limit.total_seconds() // 60)} min: is the broker or "
        "the outbox publisher down?"
        if late
        else "",
    )
    return Section("Outbox", [line])


def failures_section(now: datetime) -> Section:
    """Tasks that failed in the last day, by task, with the exception's class."""
    rows = (
        TaskFailure.objects.filter(failed_at__gte=now - timedelta(days=1))
        .values("task", "error")
        .annotate(count=Count("id"), last=Max("failed_at"))
        .order_by("-last")
    )
    lines = [
        Line(
            row["task"], f"{row['count']} x {row['error']}, last {_ago(row['last'], now)}", WARNING
        )
        for row in rows
    ]
    return Section("Failed tasks (last day)", lines, "No task failed in the last day.")


def retention_section(now: datetime) -> Section:
    """Retention rules whose latest acting run failed."""
    latest = RetentionRun.objects.filter(rule=OuterRef("pk"), dry_run=False).order_by("-started_at")
    failed = (
        RetentionRule.objects.annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_at=Subquery(latest.values("started_at")[:1]),
            last_error=Subquery(latest.values("error")[:1]),
        )
        .filter(last_status=RetentionRun.Status.FAILED)
        .order_by("kind")
    )
    lines = [
        Line(rule.kind, f"failed {_ago(rule.last_at, now)}", OVERDUE, rule.last_error[:120])
        for rule in failed
    ]
    return Section("Retention rules that failed", lines, "Every rule's last run ended well.")


def webhooks_section(now: datetime) -> Section:
    """Outbound webhook endpoints marked failing: a delivery gave up after a day of retries."""
    lines = [
        Line(
            endpoint.name,
            f"failing since {_ago(endpoint.failing_since, now)}",
            WARNING,
            "Its deliveries are retried no more; art. 19 notices fall back to e-mail. "
            "Fix the receiver, then send the failed deliveries again.",
        )
        for endpoint in failing_endpoints()
    ]
    return Section("Webhooks that fail", lines, "Every webhook endpoint delivers.")


def mail_section(now: datetime) -> Section:
    """Messages that could not be sent, per campaign sending or finished in the last week."""
    rows = (
        Message.objects.filter(status=Message.Status.FAILED)
        .filter(
            Q(campaign__finished_at__isnull=True)
            | Q(campaign__finished_at__gte=now - timedelta(days=7))
        )
        .values("campaign_id", "campaign__name")
        .annotate(count=Count("id"))
        .order_by("campaign_id")
    )
    lines = [
        Line(f"Campaign #{r['campaign_id']} {r['campaign__name']}", f"{r['count']} failed", WARNING)
        for r in rows
    ]
    return Section("Mail that could not be sent", lines, "No message of a recent campaign failed.")


SECTIONS: list[Callable[[datetime], Section]] = [
    queues_section,
    periodic_section,
    outbox_section,
    failures_section,
    retention_section,
    webhooks_section,
    mail_section,
]


def operations_report(*, now: datetime | None = None) -> OperationsReport:
    """Read every section of the machinery's state (counts, names and times only)."""
    now = now or timezone.now()
    return OperationsReport(at=now, sections=[section(now) for section in SECTIONS])
