import pytest

from core.events import EventKind
from integrations.endpoints import create_endpoint
from privacy.models import Processor
from tests.integrations.receiver import serve


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings, tmp_path):
    """Tests post to a receiver on this machine; production refuses loopback addresses."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_tasks():
    """Run queued tasks at once, in this process, as a worker would (one test uses a worker)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def receiver():
    received, server = serve()
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(db) -> Processor:
    return Processor.objects.create(
        name="Web shop", service="orders and invoices", data_shared="name, e-mail", location="NL"
    )


@pytest.fixture
def billing(db) -> Processor:
    return Processor.objects.create(
        name="Billing bureau",
        service="dunning",
        data_shared="name, address",
        location="BE",
        privacy_contact="privacy@billing.example.net",
    )


@pytest.fixture
def shop_endpoint(shop, receiver, admin_user):
    """The shop's webhook, taking every kind of event; returns (endpoint, secret)."""
    return create_endpoint(
        name="Shop",
        url=receiver.url,
        event_kinds=EventKind.values,
        recipient=shop,
        actor=admin_user,
        channel="admin",
    )
