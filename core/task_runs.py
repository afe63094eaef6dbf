"""What the machinery did: the last run of every periodic task, failed tasks, and beat's heartbeat.

A worker records the start and end of each periodic task (one row per task name, `TaskRun`) and
every failure of any task (`TaskFailure`, kept seven days, the exception's class only: a message
can quote someone's data). Beat, a separate process that runs nothing itself, notes in the cache
when it last sent each task; when beat stops, the nightly purge, the art. 14 notices, the outbox
publisher and the digest stop with it, and the operations view and `manage.py health` say so.
The cache is the one store every process of the box shares (files under `var/cache/` embedded,
Redis in production), and a write every few seconds there costs the database nothing.
"""

import logging
from datetime import UTC, datetime, timedelta

from celery import signals
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from core.models import TaskFailure, TaskRun

logger = logging.getLogger(__name__)

BEAT_KEY = "operations:beat-sent:"
BEAT_ALIVE_KEY = "operations:beat-alive"
# Long enough for a daily task's last send to be remembered between runs.
BEAT_KEY_SECONDS = 8 * 24 * 60 * 60
FAILURES_KEPT = timedelta(days=7)
_in_beat = False


def periodic_task_names() -> set[str]:
    """Return the names of the tasks beat sends (the one schedule in settings)."""
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def record_task_start(*, task: str) -> None:
    """Note that a worker started a periodic task."""
    TaskRun.objects.update_or_create(
        task=task,
        defaults={
            "started_at": timezone.now(),
            "finished_at": None,
            "outcome": TaskRun.Outcome.RUNNING,
        },
    )


def record_task_end(*, task: str, error: str = "") -> None:
    """Note how a periodic task ended: succeeded, or failed with the exception's class name."""
    now = timezone.now()
    fields: dict = {
        "finished_at": now,
        "outcome": TaskRun.Outcome.FAILED if error else TaskRun.Outcome.SUCCEEDED,
        "error": error[:200],
    }
    if not error:
        fields["last_succeeded_at"] = now
    if not TaskRun.objects.filter(task=task).update(**fields):
        TaskRun.objects.create(task=task, started_at=now, **fields)


def record_task_failure(*, task: str, error: str) -> None:
    """Keep one failure of any task for the operations view; forget those past seven days."""
    now = timezone.now()
    TaskFailure.objects.filter(failed_at__lt=now - FAILURES_KEPT).delete()
    TaskFailure.objects.create(task=task[:200], failed_at=now, error=error[:200])


def record_beat_sent(*, task: str) -> None:
    """Note in the shared cache that beat has just sent this task (beat's heartbeat)."""
    now = timezone.now().timestamp()
    try:
        cache.set_many({BEAT_KEY + task: now, BEAT_ALIVE_KEY: now}, timeout=BEAT_KEY_SECONDS)
    except Exception as exc:  # beat goes on sending; the operations page will show it silent
        logger.warning(
            "beat's heartbeat not stored: the cache is unreachable (%s)", type(exc).__name__
        )


def beat_last_sent() -> tuple[datetime | None, dict[str, datetime]]:
    """Return when beat last sent anything, and each periodic task; raise if the cache is down."""
    names = sorted(periodic_task_names())
    stored = cache.get_many([BEAT_ALIVE_KEY, *(BEAT_KEY + name for name in names)])

    def as_time(value: float | None) -> datetime | None:
        return None if value is None else datetime.fromtimestamp(value, tz=UTC)

    sent = {name: as_time(stored.get(BEAT_KEY + name)) for name in names}
    return as_time(stored.get(BEAT_ALIVE_KEY)), {k: v for k, v in sent.items() if v}


def _task_name(sender) -> str:
    return getattr(sender, "name", "") or ""


def _quietly(record, **fields) -> None:
    """Record, or log one line when the database is unreachable: never fail the task for it."""
    try:
        record(**fields)
    except DatabaseError as exc:
        logger.warning("task run of %s not recorded (%s)", fields.get("task"), type(exc).__name__)


def _on_prerun(sender=None, **kwargs) -> None:
    if _task_name(sender) in periodic_task_names():
        _quietly(record_task_start, task=_task_name(sender))


def _on_postrun(sender=None, state=None, **kwargs) -> None:
    name = _task_name(sender)
    if name in periodic_task_names() and state == "SUCCESS":
        _quietly(record_task_end, task=name)


def _on_failure(sender=None, exception=None, **kwargs) -> None:
    name = _task_name(sender)
    error = type(exception).__name__ if exception is not None else "Exception"
    _quietly(record_task_failure, task=name, error=error)
    if name in periodic_task_names():
        _quietly(record_task_end, task=name, error=error)


def _on_beat_init(**kwargs) -> None:
    global _in_beat
    _in_beat = True


def _on_publish(sender=None, **kwargs) -> None:
    # Every process publishes tasks; only beat's sends are its heartbeat.
    if _in_beat and sender in periodic_task_names():
        record_beat_sent(task=sender)


def connect_receivers() -> None:
    """Connect the recorders to Celery's signals (from `CoreConfig.ready`, in every process)."""
    signals.task_prerun.connect(_on_prerun, dispatch_uid="core.task_runs.prerun")
    signals.task_postrun.connect(_on_postrun, dispatch_uid="core.task_runs.postrun")
    signals.task_failure.connect(_on_failure, dispatch_uid="core.task_runs.failure")
    signals.beat_init.connect(_on_beat_init, dispatch_uid="core.task_runs.beat_init")
    signals.before_task_publish.connect(_on_publish, dispatch_uid="core.task_runs.publish")
