"""Stop a real beat process: the operations page and `manage.py health` say so in time."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from config.celery import app as celery_app
from core.task_runs import beat_last_sent

ROOT = Path(__file__).resolve().parents[2]
SHORTEST = 1  # seconds: the outbox publisher and the tracking flush, as beat is started below


def _health() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("health", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def _wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.celery_worker
@pytest.mark.django_db
def test_a_stopped_beat_turns_the_page_and_the_command_red_within_its_shortest_schedule(
    settings, tmp_path
):
    beat_dir = tmp_path / "beat"
    env = {**os.environ, "TRACKING_FLUSH_SECONDS": str(SHORTEST), "OUTBOX_PUBLISH_EVERY": "1"}
    if not settings.REDIS_URL:
        # Beat's own broker folders; the cache where it leaves its heartbeat is this test's.
        env["VAR_DIR"] = str(beat_dir)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(beat_dir / "cache"),
            }
        }
    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    for name in ("campaigns-flush-tracking", "outbox-publish-pending"):
        schedule[name] = {**schedule[name], "schedule": SHORTEST}
    settings.CELERY_BEAT_SCHEDULE = schedule
    settings.OPERATIONS_BEAT_SLACK_SECONDS = 2
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 16)
    browser = Client()
    browser.force_login(admin)

    beat = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "beat",
            "--schedule",
            str(tmp_path / "celerybeat-schedule"),
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until(lambda: beat_last_sent()[0] is not None, timeout=60, what="beat's first send")
        assert "All machinery on time" in browser.get("/admin/operations/").text
        assert _health()[0] == 0
        os.killpg(beat.pid, signal.SIGKILL)
        beat.wait(timeout=30)
        stopped = time.monotonic()

        _wait_until(
            lambda: "Beat is silent" in browser.get("/admin/operations/").text,
            timeout=SHORTEST + settings.OPERATIONS_BEAT_SLACK_SECONDS + 5,
            what="the page to turn red",
        )
        red_after = time.monotonic() - stopped
        code, printed = _health()
    finally:
        if beat.poll() is None:
            os.killpg(beat.pid, signal.SIGKILL)
            beat.wait(timeout=30)
        if settings.REDIS_URL:
            with celery_app.connection_for_write() as conn:
                for queue in ("tracking", "maintenance"):
                    conn.default_channel.queue_purge(queue)
    assert red_after <= SHORTEST + settings.OPERATIONS_BEAT_SLACK_SECONDS + 5
    assert code == 1
    assert "Beat: OVERDUE" in printed
    assert "Beat is silent" in printed
