"""Outbound webhooks: endpoints, signed deliveries, retries, the delivery log, the guard on URLs.

Every delivery goes to a real HTTP receiver on loopback (allowed by the tests' settings) and is
checked with the receiver's own ten-line verification from docs/webhooks.md.
"""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.events import EventKind, emit_event
from core.models import OutboundEvent
from crm.contacts import create_contact, update_contact
from integrations.delivery import dispatch_event, prune_delivery_log, send_again
from integrations.endpoints import create_endpoint, failing_endpoints, rotate_secret
from integrations.models import Delivery, WebhookEndpoint
from tests.crm.factories import ContactFactory
from tests.integrations.receiver import verify
from tests.integrations.steps import retry_due, run_worker, time_passes

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/hooks/crm"  # an address literal: no name server needed


def staff(django_user_model, role: str):
    user = django_user_model.objects.create_user(
        f"{role.lower().replace(' ', '-')}", "staff@example.org", "pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def new_contact(actor):
    return create_contact(
        actor=actor, channel="admin", email="joost.bakker@example.org", first_name="Joost"
    )


def api(client, user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=user).key}"
    return client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0/hook",
        "http://93.184.215.14/hook",
        "https://user:secret@93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
        "https://no-such-host.invalid/hook",
    ],
)
def test_a_private_loopback_or_unencrypted_address_is_refused_in_production(
    settings, shop, admin_user, url
):
    settings.WEBHOOK_ALLOW_LOOPBACK = False

    with pytest.raises(Exception) as refused:
        create_endpoint(
            name="Bad",
            url=url,
            event_kinds=["contact.erased"],
            recipient=shop,
            actor=admin_user,
            channel="admin",
        )

    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_address_is_accepted(settings, shop, admin_user):
    settings.WEBHOOK_ALLOW_LOOPBACK = False

    endpoint, secret = create_endpoint(
        name="Shop",
        url=PUBLIC,
        event_kinds=["contact.erased", "contact.restricted"],
        recipient=shop,
        actor=admin_user,
        channel="admin",
    )

    assert endpoint.event_kinds == ["contact.erased", "contact.restricted"]
    assert secret.startswith("whsec_")


def test_the_api_refuses_a_loopback_address_in_production_with_the_field_named(
    settings, client, shop, admin_user
):
    settings.WEBHOOK_ALLOW_LOOPBACK = False

    answer = api(client, admin_user).post(
        "/api/v1/webhooks/endpoints/",
        {"name": "x", "url": "http://127.0.0.1/x", "recipient": shop.pk, "event_kinds": ["x.y"]},
        content_type="application/json",
    )

    assert answer.status_code == 400
    assert "url" in answer.json() and "event_kinds" in answer.json()
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_to_an_address_refused_since_is_not_sent(
    settings, shop_endpoint, receiver, admin_user
):
    emit_event(EventKind.CAMPAIGN_SENT, campaign=7)
    settings.WEBHOOK_ALLOW_LOOPBACK = False  # the operator switched loopback off

    run_worker()

    delivery = Delivery.objects.get(kind="campaign.sent")
    assert delivery.status == "retrying"
    assert "loopback" in delivery.last_error
    assert receiver.received == []


def test_the_secret_is_shown_once_and_never_again(client, shop, receiver, admin_user):
    client = api(client, admin_user)
    created = client.post(
        "/api/v1/webhooks/endpoints/",
        {
            "name": "Shop",
            "url": receiver.url,
            "recipient": shop.pk,
            "event_kinds": ["contact.changed"],
        },
        content_type="application/json",
    )
    secret = created.json()["secret"]

    listed = client.get("/api/v1/webhooks/endpoints/").content.decode()
    detail = client.get(f"/api/v1/webhooks/endpoints/{created.json()['id']}/").content.decode()
    client.defaults.pop("HTTP_AUTHORIZATION")
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:integrations_webhookendpoint_change", args=[created.json()["id"]])
    )

    assert created.status_code == 201 and secret.startswith("whsec_")
    for shown in (listed, detail, page.content.decode()):
        assert secret not in shown
        assert secret[6:] not in shown


def test_a_tampered_or_replayed_delivery_is_detected_by_the_receiver(
    shop_endpoint, receiver, admin_user
):
    _endpoint, secret = shop_endpoint
    new_contact(admin_user)
    run_worker()
    genuine = receiver.received[0]

    assert verify(secret, genuine.headers, genuine.body)["type"] == "contact.created"
    tampered = genuine.body.replace(b"contact.created", b"contact.erased")
    with pytest.raises(ValueError, match="bad signature"):
        verify(secret, genuine.headers, tampered)
    later = {
        **genuine.headers,
        "webhook-timestamp": str(int(genuine.headers["webhook-timestamp"]) - 600),
    }
    with pytest.raises(ValueError, match="stale"):
        verify(secret, later, genuine.body)
    with pytest.raises(ValueError, match="bad signature"):
        verify("whsec_" + "A" * 32, genuine.headers, genuine.body)


def test_after_a_new_secret_deliveries_are_signed_with_it(shop_endpoint, receiver, admin_user):
    endpoint, old = shop_endpoint
    new = rotate_secret(endpoint=endpoint, actor=admin_user, channel="admin")
    new_contact(admin_user)

    run_worker()

    sent = receiver.received[0]
    assert verify(new, sent.headers, sent.body)
    with pytest.raises(ValueError):
        verify(old, sent.headers, sent.body)


def test_a_change_carries_ids_and_field_names_only(shop_endpoint, receiver, admin_user):
    _endpoint, secret = shop_endpoint
    contact = ContactFactory()
    update_contact(contact=contact, actor=admin_user, channel="admin", phone="+31612345678")

    run_worker()

    changed = [verify(secret, r.headers, r.body) for r in receiver.received][-1]
    assert changed["type"] == "contact.changed"
    assert changed["data"] == {"contact": contact.pk, "fields": ["phone"]}
    assert "+31612345678" not in json.dumps(changed)


def test_an_event_is_delivered_once_however_often_the_dispatch_runs(shop_endpoint, receiver):
    emit_event(EventKind.CAMPAIGN_SENT, campaign=3)
    event = OutboundEvent.objects.get()

    run_worker()
    assert dispatch_event(event_id=str(event.pk)) == 0
    run_worker()
    retry_due()

    assert len(receiver.events("campaign.sent")) == 1
    assert Delivery.objects.filter(event_id=event.pk).count() == 1
    assert not OutboundEvent.objects.exists()


def test_a_receiver_that_times_out_is_retried_then_marked_failing_and_sent_again(
    settings, shop_endpoint, receiver, admin_user
):
    settings.WEBHOOK_RETRY_DELAYS = [60, 300]
    endpoint, secret = shop_endpoint
    receiver.delay = 1.5  # longer than the one-second timeout
    emit_event(EventKind.CAMPAIGN_SENT, campaign=5)

    run_worker()
    time_passes(60)
    retry_due()
    time_passes(300)
    retry_due()

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "ReadTimeout")
    assert delivery.payload is not None  # kept, so it can be sent again
    assert list(failing_endpoints()) == [endpoint]
    time_passes(86400)
    retry_due()
    assert len(receiver.received) == 3  # given up: no more attempts

    receiver.delay = 0
    send_again(delivery=delivery, actor=admin_user, channel="admin")
    retry_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.payload) == ("delivered", None)
    assert verify(secret, receiver.received[-1].headers, receiver.received[-1].body)
    assert list(failing_endpoints()) == []


def test_the_delivery_log_in_the_api_keeps_no_payload_and_sends_again_only_given_up_ones(
    settings, client, shop_endpoint, receiver, admin_user
):
    settings.WEBHOOK_RETRY_DELAYS = []
    receiver.script = [500]
    emit_event(EventKind.CAMPAIGN_SENT, campaign=9)
    emit_event(EventKind.CAMPAIGN_SENT, campaign=10)
    run_worker()
    client = api(client, admin_user)

    failed = client.get("/api/v1/webhooks/deliveries/", {"status": "failed"}).json()["results"]
    delivered = client.get("/api/v1/webhooks/deliveries/", {"status": "delivered"}).json()
    refused = client.post(
        f"/api/v1/webhooks/deliveries/{delivered['results'][0]['id']}/send-again/"
    )
    again = client.post(f"/api/v1/webhooks/deliveries/{failed[0]['id']}/send-again/")
    wrong = client.get("/api/v1/webhooks/deliveries/", {"endpoint": "shop"})
    huge = client.get("/api/v1/webhooks/deliveries/", {"endpoint": str(2**70)})

    assert len(failed) == 1 and failed[0]["last_status_code"] == 500
    assert "payload" not in failed[0]
    assert refused.status_code == 400 and "given up" in refused.json()["non_field_errors"][0]
    assert again.status_code == 200 and again.json()["status"] == "pending"
    assert wrong.status_code == 400 and huge.status_code == 400


def test_a_privacy_officer_reads_endpoints_and_deliveries_but_registers_none(
    client, django_user_model, shop
):
    officer = api(client, staff(django_user_model, "Privacy officer"))

    assert officer.get("/api/v1/webhooks/endpoints/").status_code == 200
    assert officer.get("/api/v1/webhooks/deliveries/").status_code == 200
    refused = officer.post(
        "/api/v1/webhooks/endpoints/",
        {"name": "x", "url": PUBLIC, "recipient": shop.pk, "event_kinds": ["contact.erased"]},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_marketing_sees_no_webhooks(client, django_user_model):
    marketing = api(client, staff(django_user_model, "Marketing"))

    assert marketing.get("/api/v1/webhooks/endpoints/").status_code == 403
    assert marketing.get("/api/v1/webhooks/deliveries/").status_code == 403


def test_the_openapi_document_describes_every_payload(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert set(schema["x-webhooks"]) == set(EventKind.values)
    event = schema["components"]["schemas"]["WebhookEvent"]["properties"]
    data = schema["components"]["schemas"]["WebhookEventData"]["properties"]
    assert {"id", "type", "occurred_at", "data"} <= set(event)
    assert {"contact", "fields", "recipient_reference", "email_hash"} <= set(data)


def test_the_delivery_log_forgets_finished_deliveries_after_its_period(shop_endpoint, receiver):
    emit_event(EventKind.CAMPAIGN_SENT, campaign=11)
    emit_event(EventKind.CAMPAIGN_SENT, campaign=12)
    run_worker()
    old, recent = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))

    assert prune_delivery_log(older_than_days=90) == 1
    assert list(Delivery.objects.all()) == [recent]
    assert prune_delivery_log(older_than_days=90) == 0
