"""Waiting for what a Celery worker thread does, on either database."""

import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import OperationalError

Found = TypeVar("Found")


def wait_for(found: Callable[[], Found], *, seconds: float = 60) -> Found:
    """Poll until `found()` returns something, or fail after `seconds`.

    SQLite's shared in-memory test database answers "table is locked" to a reader while the
    worker thread writes, instead of waiting: that read is tried again.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = found()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            result = None
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"nothing arrived within {seconds} seconds")
