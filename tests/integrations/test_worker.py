"""An erasure passed on by a real Celery worker to a real receiver on loopback.

The worker runs in this process (Redis in CI's second run, the file-system transport otherwise):
the beat task's dispatch is sent to it, and the delivery it queues through the outbox is taken
by the same worker and posted to the receiver.
"""

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from crm.contacts import create_contact
from integrations.models import Delivery
from integrations.tasks import dispatch_events
from privacy.accountability.recipients import record_disclosure
from privacy.requests.subject_requests import approve_erasure
from tests.integrations.receiver import verify
from tests.privacy.request_steps import SubjectRequestFactory
from tests.waiting import wait_for


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_erasure_reaches_the_receiver_from_a_worker(shop_endpoint, receiver, admin_user):
    celery_app.conf.task_always_eager = False
    _endpoint, secret = shop_endpoint
    contact = create_contact(
        actor=admin_user, channel="admin", email="lotte.smit@example.org", first_name="Lotte"
    )
    record_disclosure(
        recipient=_endpoint.recipient,
        kind="list",
        description="Name and e-mail",
        people={contact.pk: "shop-77"},
        actor=admin_user,
        channel="admin",
    )
    erasure = SubjectRequestFactory(kind="erasure", email=contact.email, contact=contact)
    approve_erasure(request=erasure, actor=admin_user)

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default"],
        shutdown_timeout=30,
    ):
        dispatch_events.delay().get(timeout=60)
        erased = wait_for(lambda: receiver.events("contact.erased"))

    assert erased[0]["data"]["recipient_reference"] == "shop-77"
    sent = next(r for r in receiver.received if r.event["type"] == "contact.erased")
    assert verify(secret, sent.headers, sent.body)["data"]["request"] == erasure.pk
    wait_for(lambda: Delivery.objects.filter(kind="contact.erased", status="delivered").exists())
    assert contact.email not in sent.body.decode()
