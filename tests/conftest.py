import pytest
from django.test.client import ClientMixin
from rest_framework.authtoken.models import Token

from privacy.staff.two_factor import requires_two_factor
from tests.two_factor import mark_verified


@pytest.fixture
def staff_token(admin_user) -> str:
    """An API token of a superuser (staff with every model permission)."""
    return Token.objects.create(user=admin_user).key


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """Let `client.force_login` stand for the whole login, second factor included.

    Tests of the admin and the API log staff in with force_login; for privacy officers and
    administrators that means a password and a verified code. The two-factor rule itself is
    tested through the real login pages (tests/privacy/test_staff_login.py).
    """
    force_login = ClientMixin.force_login

    def force_login_with_second_factor(self, user, backend=None):
        force_login(self, user, backend)
        if requires_two_factor(user):
            mark_verified(self, user)

    monkeypatch.setattr(ClientMixin, "force_login", force_login_with_second_factor)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with empty rate-limit counters and cached lookups.

    The tracking links each process remembers go too: a rolled-back test gives its ids to the
    next test's links on SQLite, which no database in service does.
    """
    from django.core.cache import cache

    from campaigns.tracking import hits

    cache.clear()
    hits._LINKS.clear()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """Leave no language active after a test: a request in one test must not translate the next."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _private_embedded_broker(tmp_path_factory):
    """Give this test run its own file-system broker and results folder.

    Otherwise a worker started by one test run could take messages queued by another run, or by
    `make run`, on the same machine. With Redis (CI's second run) the database number in
    REDIS_URL keeps runs apart instead.
    """
    from config.celery import app

    if not app.conf.broker_url.startswith("filesystem"):
        yield
        return
    root = tmp_path_factory.mktemp("broker")
    for folder in ("queue", "processed", "control", "results"):
        (root / folder).mkdir()
    previous = app.conf.broker_transport_options, app.conf.result_backend
    app.conf.broker_transport_options = {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": False,
    }
    app.conf.result_backend = f"file://{root / 'results'}"
    yield
    app.conf.broker_transport_options, app.conf.result_backend = previous


def drop_queued_tasks() -> None:
    """Empty every queue of the broker, so a worker about to start runs only what its test queues.

    Tests without a worker leave their tasks queued; a worker started later would run them
    against emptied tables, failing them and holding the database while the test waits.
    """
    from config.celery import app

    with app.connection_for_write() as connection:
        app.control.purge(connection=connection)


@pytest.fixture(autouse=True)
def _no_task_left_from_earlier_tests(request) -> None:
    """Before a test that runs a Celery worker, drop the tasks earlier tests queued."""
    if request.node.get_closest_marker("celery_worker") is not None:
        drop_queued_tasks()


@pytest.fixture
def role_client(db, client):
    """Return a factory of the test client logged in as a new staff member of a role."""
    from tests.staff import staff_member

    def login(role: str):
        client.force_login(staff_member(role))
        return client

    return login


@pytest.fixture
def controller_named(settings):
    """Name the controller, its privacy contact and authority, as production must (art. 13)."""
    settings.CONTROLLER_NAME = "Tegel & Co B.V."
    settings.CONTROLLER_ADDRESS = "Havenstraat 1, 1011 AA Amsterdam, Netherlands"
    settings.PRIVACY_CONTACT = "Data protection officer, privacy@tegel.example.org"
    settings.SUPERVISORY_AUTHORITY = "Autoriteit Persoonsgegevens"
