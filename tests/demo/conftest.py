import pytest


@pytest.fixture(autouse=True)
def _own_tracking_buffer(settings, tmp_path):
    """The demo's opens and clicks wait in this test's own buffer file (Redis: the test's db)."""
    settings.TRACKING_BUFFER_PATH = tmp_path / "tracking-hits.sqlite3"
