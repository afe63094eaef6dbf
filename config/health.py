"""Liveness checks for `/healthz`: can we reach the database and the Celery broker?

`/healthz/ready` (for load balancers) and `manage.py health` run the detailed `readiness()`
checks: each says what failed in one line, never with a traceback.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

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


@dataclass(frozen=True)
class Probe:
    """The answer of one readiness check: whether it passed, why not, and how long it took."""

    ok: bool
    detail: str
    ms: float


def _timed(check: Callable[[], str]) -> Probe:
    """Run a check that returns "" when fine or the reason it failed; never raise."""
    started = time.monotonic()
    try:
        reason = check()
    except Exception as exc:  # the class names the failure; its text may carry a password
        reason = f"unreachable ({type(exc).__name__})"
    ms = round((time.monotonic() - started) * 1000, 1)
    if reason:
        logger.warning("readiness check failed: %s", reason)
    return Probe(ok=not reason, detail=reason or "ok", ms=ms)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return "" if cursor.fetchone() == (1,) else "unexpected answer"


_migrated = False


def _migrations() -> str:
    global _migrated
    if _migrated:
        return ""  # applied once seen applied: new migrations come with a new process
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrated = not pending
    return f"{len(pending)} migrations not applied" if pending else ""


def _broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        conn.default_channel  # noqa: B018 -- opening the channel is the check
    return ""


def _cache() -> str:
    key = "healthz:ready"
    cache.set(key, "1", timeout=30)
    return "" if cache.get(key) == "1" else "a value written could not be read back"


READINESS: dict[str, Callable[[], str]] = {
    "database": _database,
    "migrations": _migrations,
    "broker": _broker,
    "cache": _cache,
}


def readiness() -> dict[str, Probe]:
    """Run every readiness check: database, applied migrations, broker and cache."""
    probes: dict[str, Probe] = {}
    for name, check in READINESS.items():
        if name == "migrations" and not probes["database"].ok:
            probes[name] = Probe(ok=False, detail="database unreachable", ms=0.0)
            continue
        probes[name] = _timed(check)
    return probes
