"""Public forms are rate-limited per visitor address and per e-mail, behind trusted proxies too."""

import pytest
from django.core import mail
from django.test import RequestFactory

from core.ratelimit import client_address
from crm.models import Interaction
from tests.privacy.subscription_steps import mail_confirmations, queued_confirmations

pytestmark = pytest.mark.django_db


def test_the_contact_form_refuses_the_post_over_the_limit_and_stores_nothing(client, settings):
    settings.FORM_RATE_PER_EMAIL = 2
    message = {"name": "Cian Byrne", "email": "cian.byrne@example.org", "message": "Hello"}
    for attempt in range(2):
        assert (
            client.post("/contact/", {**message, "message": f"Hello {attempt}"}).status_code == 200
        )
    refused = client.post("/contact/", {**message, "message": "Hello again"})
    assert refused.status_code == 429
    assert "Too many requests" in refused.text
    assert Interaction.objects.count() == 2


def test_the_subscribe_form_refuses_a_flood_from_one_address_without_mailing(
    client, settings, newsletter
):
    settings.FORM_RATE_PER_IP = 3
    for n in range(3):
        client.post("/subscribe/", {"email": f"reader{n}@example.net", "purposes": ["newsletter"]})
    mail_confirmations()
    sent = len(mail.outbox)
    refused = client.post(
        "/subscribe/", {"email": "reader9@example.net", "purposes": ["newsletter"]}
    )
    assert refused.status_code == 429
    assert not queued_confirmations()
    assert len(mail.outbox) == sent == 3


def test_the_visitor_address_is_read_behind_the_configured_proxies_only(settings):
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7", REMOTE_ADDR="192.0.2.10"
    )
    settings.FORWARDED_FOR_PROXIES = 0
    assert client_address(request) == "192.0.2.10"
    settings.FORWARDED_FOR_PROXIES = 1
    assert client_address(request) == "203.0.113.7"
