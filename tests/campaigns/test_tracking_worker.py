"""The flush on a real Celery worker of the `tracking` queue; hits outlive the web process."""

import pytest
from celery.contrib.testing.worker import start_worker

from campaigns.models import MessageEvent
from campaigns.tracking.buffers import SQLiteHitBuffer, hit_buffer
from campaigns.tracking_tasks import flush_tracking_hits
from config.celery import app as celery_app
from tests.campaigns.factories import MessageFactory, TrackedLinkFactory


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_tracking_queue_writes_the_buffered_hits(client):
    message = MessageFactory()
    link = TrackedLinkFactory(campaign=message.campaign)
    client.get(f"/t/o/{message.token}.gif")
    client.get(f"/t/c/{message.token}/{link.pk}/")
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["tracking"],
        shutdown_timeout=30,
    ):
        flush_tracking_hits.apply_async().get(timeout=60)
    assert sorted(MessageEvent.objects.values_list("kind", flat=True)) == ["clicked", "opened"]


def test_the_tracking_task_is_routed_to_the_tracking_queue_and_scheduled(settings):
    route = celery_app.amqp.router.route({}, flush_tracking_hits.name)
    assert route["queue"].name == "tracking"
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert flush_tracking_hits.name in scheduled


@pytest.mark.django_db
def test_hits_appended_by_one_process_are_there_for_a_new_one(client, settings):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif")
    client.get(f"/t/o/{message.token}.gif")
    if settings.TRACKING_BUFFER == "sqlite":
        # A web process restarted: a new connection to the same file sees every committed hit.
        assert SQLiteHitBuffer(settings.TRACKING_BUFFER_PATH).pending() == 2
    else:
        assert hit_buffer().redis.llen(hit_buffer().PENDING) == 2
