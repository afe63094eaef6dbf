"""Celery tasks of the project's plumbing: thin callers of `core.outbox`."""

import logging

from celery import shared_task

from core.outbox import publish_pending as publish_pending_now

logger = logging.getLogger(__name__)


# The name it had when it lived in config: beat schedules and workers of every release agree.
@shared_task(name="config.tasks.publish_pending")
def publish_pending() -> int:
    """Hand the broker the tasks the web could not queue while it was away."""
    published = publish_pending_now()
    if published:
        logger.info("outbox: %s queued tasks handed to the broker", published)
    return published
