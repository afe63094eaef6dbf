"""Celery tasks of tracking, on the `tracking` queue: the flush of buffered opens and clicks."""

from celery import shared_task
from django.core.cache import cache

from campaigns.tracking.flush import flush_hits

FLUSH_LOCK = "campaigns:tracking-flush"
# Longer than a flush of `max_batches` batches takes; a killed flush frees it by expiring.
FLUSH_LOCK_SECONDS = 120


@shared_task(ignore_result=True)
def flush_tracking_hits() -> dict[str, int]:
    """Write the buffered hits as events; a second flush while one runs leaves at once."""
    # Only an optimisation: two flushes at once are safe (a batch is written once), merely idle.
    if not cache.add(FLUSH_LOCK, 1, timeout=FLUSH_LOCK_SECONDS):
        return {"batches": 0, "hits": 0, "events": 0, "skipped_batches": 0}
    try:
        result = flush_hits()
    finally:
        cache.delete(FLUSH_LOCK)
    return {
        "batches": result.batches,
        "hits": result.hits,
        "events": result.events,
        "skipped_batches": result.skipped_batches,
    }
