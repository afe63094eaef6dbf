"""Celery tasks of the CRM: thin callers of the functions that do the work."""

from celery import shared_task

from crm.imports.batches import discard_unfinished, run_batch


# Late acknowledgement: a worker killed mid-import hands the task back, and the batch carries on
# from its last committed chunk (run_batch is safe to run twice).
@shared_task(acks_late=True)
def run_import(batch_id: int) -> str:
    """Run (or carry on) one list import; return its status."""
    return run_batch(batch_id=batch_id).status


@shared_task(acks_late=True)
def discard_unfinished_imports() -> int:
    """Discard drafts and failed imports left too long; return how many."""
    return discard_unfinished()
