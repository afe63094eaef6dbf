"""Liveness checks for `/healthz`: can we reach the database and the Celery broker?"""

import logging

from django.db import connection

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    """Return whether the default database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database unreachable")
        return False


def broker_ok() -> bool:
    """Return whether the Celery broker accepts a connection and opens a channel."""
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel  # noqa: B018 -- opening the channel is the check
        return True
    except Exception:
        logger.exception("health check: broker unreachable")
        return False
