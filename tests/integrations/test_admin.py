"""The webhook screens: registering an endpoint shows its secret once; the log sends again."""

import pytest
from django.contrib.messages import get_messages
from django.test import TestCase
from django.urls import reverse

from core.events import EventKind, emit_event
from integrations.models import Delivery, WebhookEndpoint
from tests.integrations.steps import run_worker

pytestmark = pytest.mark.django_db


def test_an_administrator_registers_an_endpoint_and_sees_the_secret_once(
    admin_client, shop, receiver
):
    added = admin_client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {
            "name": "Shop",
            "url": receiver.url,
            "recipient": shop.pk,
            "event_kinds": ["contact.erased", "contact.restricted"],
            "is_active": "on",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    (message,) = [str(m) for m in get_messages(added.wsgi_request) if "secret" in str(m)]
    assert added.status_code == 302
    assert endpoint.secret in message and "not shown again" in message
    assert endpoint.event_kinds == ["contact.erased", "contact.restricted"]
    shown = admin_client.get(added["Location"])
    again = admin_client.get(
        reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk])
    )
    assert endpoint.secret in shown.content.decode()
    assert again.status_code == 200 and endpoint.secret not in again.content.decode()


def test_the_form_refuses_a_private_address_and_stores_nothing(settings, admin_client, shop):
    settings.WEBHOOK_ALLOW_LOOPBACK = False

    refused = admin_client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {
            "name": "x",
            "url": "https://10.1.2.3/hook",
            "recipient": shop.pk,
            "event_kinds": ["contact.erased"],
        },
    )

    assert refused.status_code == 200
    assert "private, loopback or reserved network" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_send_again_from_the_delivery_log(settings, admin_client, shop_endpoint, receiver):
    settings.WEBHOOK_RETRY_DELAYS = []
    receiver.script = [502]
    emit_event(EventKind.CAMPAIGN_SENT, campaign=1)
    run_worker()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"

    log = admin_client.get(reverse("admin:integrations_delivery_changelist"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(
            reverse("admin:integrations_delivery_changelist"),
            {"action": "send_again_action", "_selected_action": [delivery.pk]},
        )

    assert "Gave up after a day of retries" in log.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert len(receiver.received) == 2
