"""What the worker and beat do, run in the test's process, and the passing of time.

`run_worker` hands out the waiting events (the beat task) and runs the deliveries and mails they
queue on commit (the worker, eager in tests); `time_passes` moves every scheduled retry that much
closer, as the clock would; `retry_due` is the beat task that queues due retries.
"""

from datetime import timedelta

from django.db.models import F
from django.test import TestCase

from integrations.delivery import dispatch_pending_events, queue_due_deliveries
from integrations.models import Delivery


def run_worker() -> int:
    """Dispatch the waiting events and run the tasks they queue; return events dispatched."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return dispatch_pending_events()


def retry_due() -> int:
    """Run the beat task that queues due retries, and the attempts it queues."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return queue_due_deliveries()


def time_passes(seconds: int) -> None:
    """Bring every scheduled attempt `seconds` closer."""
    Delivery.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=F("next_attempt_at") - timedelta(seconds=seconds)
    )
