"""The worker's half of the subscription form: the confirmation mail the form queued.

The form queues its mail through the outbox (`core.outbox`). A test here runs in one transaction
that never commits, so the row stays where the form wrote it; `mail_confirmations` does what
publishing and the worker would: it takes each queued confirmation, deletes its row and runs the
task in place. `tests/core/test_outbox_broker_outage.py` runs the same on a real worker.
"""

from core.models import OutboxTask
from privacy.consent.subscriptions import CONFIRMATION_TASK
from privacy.tasks import send_subscription_confirmation


def queued_confirmations() -> list[OutboxTask]:
    """Return the confirmation mails waiting in the outbox, oldest first."""
    return list(OutboxTask.objects.filter(task=CONFIRMATION_TASK).order_by("pk"))


def mail_confirmations() -> int:
    """Send the queued confirmation mails as the worker would, dropping their rows; count them."""
    rows = queued_confirmations()
    for row in rows:
        row.delete()
        send_subscription_confirmation(*row.args, **row.kwargs)
    return len(rows)
