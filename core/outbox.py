"""Queue Celery tasks through a transactional outbox, so a broker outage loses no work.

`transaction.on_commit(lambda: task.delay(...))` loses the task when the broker is down at that
moment (and the error reaches the person who just sent a form). Here the task is first written to
the `OutboxTask` table in the caller's transaction, so it exists exactly when the change that
asked for it does. After the commit it is handed to the broker at once and its row deleted; if the
broker refuses it, the row stays, the page answers as usual, and the `publish_pending` beat task
hands it over once the broker is back. Tasks queued this way must be safe to run twice (they all
are, see STYLE.md): a crash between handing over and deleting the row publishes it again.

Tasks are named, not imported: a service that queues work never imports its own tasks module, so
services and tasks do not import each other. A `countdown` holds the task back from its time of
queueing, not of publishing, so a task the broker took late is not delayed twice. With Celery's
`task_always_eager` (tests, a shell) the task runs in place, as `.delay()` would.
"""

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import OutboxTask

# At publish time from the web: one quick retry, so a request never hangs on a dead broker.
QUICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
BATCH = 500
logger = logging.getLogger(__name__)


def enqueue_on_commit(task: str, *args: Any, countdown: int = 0, **kwargs: Any) -> OutboxTask:
    """Record the named task in the current transaction and publish it once that commits."""
    row = OutboxTask.objects.create(task=task, args=list(args), kwargs=kwargs, countdown=countdown)
    transaction.on_commit(lambda: publish(row))
    return row


def publish(row: OutboxTask) -> bool:
    """Hand one outbox row to the broker and delete it; keep it, noting why, when that fails."""
    if current_app.conf.task_always_eager:
        # Tasks are named, not imported: load the task modules as a starting worker does.
        current_app.loader.import_default_modules()
        OutboxTask.objects.filter(pk=row.pk).delete()
        current_app.tasks[row.task].apply(args=row.args, kwargs=row.kwargs, throw=True)
        return True
    eta = row.created_at + timedelta(seconds=row.countdown) if row.countdown else None
    try:
        current_app.send_task(
            row.task,
            args=row.args,
            kwargs=row.kwargs,
            eta=eta,
            retry=True,
            retry_policy=QUICK_RETRY,
        )
    except Exception as exc:
        # Any transport's connection error: the row stays for publish_pending.
        OutboxTask.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, last_error=type(exc).__name__[:300]
        )
        logger.warning("outbox: task %s #%s kept, the broker refused it", row.task, row.pk)
        return False
    OutboxTask.objects.filter(pk=row.pk).delete()
    return True


def publish_pending(*, older_than_seconds: int = 30) -> int:
    """Publish every outbox row older than a few seconds, oldest first; return how many went.

    Younger rows are still being published by the request that wrote them. Stops at the first
    refusal: the broker is still away, and the next run starts again from the oldest row.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    published = 0
    while True:
        rows = list(OutboxTask.objects.filter(created_at__lte=cutoff)[:BATCH])
        for row in rows:
            if not publish(row):
                return published
            published += 1
        if len(rows) < BATCH:
            return published
