"""With the broker away the site keeps serving, and work queued by a public form waits, not lost.

The outage is real: the embedded transport's queue folder is taken away, or (on Redis) the app is
pointed at a port where nothing listens. When it is back, the beat task hands the waiting task to
the broker and a real worker sends the mail.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from core.models import OutboxTask
from core.tasks import publish_pending
from crm.models import Contact
from privacy.models import SubjectRequest
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory
from tests.privacy.request_steps import isolate, submit

VERIFY = "/privacy/requests/verify/"

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _reset_broker_pools() -> None:
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # Kombu keeps producer pools per connection in a registry of its own: drop the closed ones.
    kombu_pools.reset()


@pytest.fixture(autouse=True)
def _fresh_broker_pools() -> None:
    """Start from new connections: an in-process test worker stopped earlier in the run closes the
    app's pools on its way out, which no web process ever meets."""
    _reset_broker_pools()


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Take the broker away for the duration of the block, then bring it back."""
    conf = celery_app.conf
    if conf.broker_url.startswith("filesystem"):
        queue = Path(conf.broker_transport_options["data_folder_out"])
        away = queue.with_name("queue-away")
        queue.rename(away)
        try:
            yield
        finally:
            away.rename(queue)
        return
    previous = conf.broker_url
    conf.broker_url = "redis://127.0.0.1:9/0"
    _reset_broker_pools()
    try:
        yield
    finally:
        conf.broker_url = previous
        _reset_broker_pools()


def _wait_for_mail(seconds: float = 60) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mail.outbox:
            return mail.outbox
        time.sleep(0.05)
    pytest.fail(f"no mail within {seconds} seconds")


def test_public_pages_answer_and_a_request_mail_waits_for_the_broker(client, settings, tmp_path):
    isolate(settings, tmp_path)
    with broker_unreachable():
        for path in ("/", "/privacy/", "/subscribe/", "/privacy/requests/new/", "/contact/"):
            assert client.get(path).status_code == 200, path
        assert client.get("/healthz").json()["checks"]["broker"] == "unreachable"
        response = submit(client, "access", "pieter.vos@example.org")
        assert response.status_code == 302
        assert response["Location"] == "/privacy/requests/sent/"
        waiting = OutboxTask.objects.get()
        assert waiting.task == "privacy.tasks.send_request_verification"
        assert waiting.args == [SubjectRequest.objects.get().pk]
        assert waiting.attempts == 1
        assert not mail.outbox

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default", "maintenance"],
        shutdown_timeout=30,
    ):
        OutboxTask.objects.update(created_at=waiting.created_at.replace(year=2000))
        assert publish_pending.delay().get(timeout=60) == 1
        (verification,) = _wait_for_mail()
    assert verification.to == ["pieter.vos@example.org"]
    assert VERIFY in verification.body
    assert not OutboxTask.objects.exists()


def test_a_subscription_during_an_outage_waits_in_the_outbox_and_is_mailed_once_it_is_back(
    client, settings, tmp_path
):
    isolate(settings, tmp_path)
    NoticeVersionFactory()
    newsletter = PurposeFactory(code="weekly_letter")
    with broker_unreachable():
        response = client.post(
            "/subscribe/", {"email": "Lieke.Mulder@example.org", "purposes": [newsletter.code]}
        )
        assert response.status_code == 302
        assert response["Location"] == "/subscribe/sent/"
        waiting = OutboxTask.objects.get()
        assert waiting.task == "privacy.tasks.send_subscription_confirmation"
        assert waiting.attempts == 1
        assert not mail.outbox

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default", "maintenance"],
        shutdown_timeout=30,
    ):
        OutboxTask.objects.update(created_at=waiting.created_at.replace(year=2000))
        assert publish_pending.delay().get(timeout=60) == 1
        (confirmation,) = _wait_for_mail()
    assert confirmation.to == ["lieke.mulder@example.org"]
    (token,) = waiting.args
    assert f"/subscribe/confirm/{token}/" in confirmation.body
    assert not OutboxTask.objects.exists()
    assert not Contact.objects.exists()  # still nothing stored until the link is clicked


def test_with_the_broker_up_the_task_is_published_at_once_and_leaves_no_row(
    client, settings, tmp_path
):
    isolate(settings, tmp_path)
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default"],
        shutdown_timeout=30,
    ):
        assert submit(client, "access", "sara.koster@example.org").status_code == 302
        assert not OutboxTask.objects.exists()
        (verification,) = _wait_for_mail()
    assert verification.to == ["sara.koster@example.org"]
