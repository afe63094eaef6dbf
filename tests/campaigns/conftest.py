import pytest

from campaigns.tracking import hits
from campaigns.tracking.buffers import hit_buffer


@pytest.fixture(autouse=True)
def _empty_tracking_buffer(settings, tmp_path):
    """Give each test its own empty buffer (a fresh SQLite file, or the Redis lists emptied), and
    forget the links a previous test's process remembered: their ids may be reused."""
    hits._LINKS.clear()
    if settings.TRACKING_BUFFER == "sqlite":
        settings.TRACKING_BUFFER_PATH = tmp_path / "tracking-hits.sqlite3"
    else:
        buffer = hit_buffer()
        buffer.redis.delete(buffer.PENDING, buffer.CLAIMED)
    yield


@pytest.fixture
def eager_tasks():
    """Run queued tasks at once, in this process, as a worker would (countdowns not waited for)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
