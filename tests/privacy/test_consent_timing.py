"""A consent decision cannot be outrun by a date (art. 7(3)): future, backdated, rebuilt."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from privacy.consent.ledger import consent_states, rebuild_consent_states
from privacy.links import preferences_url
from privacy.models import ConsentEvent, ConsentState
from tests.privacy.factories import ContactFactory
from tests.privacy.pages import hidden_value, site_path, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def push(api: APIClient, email: str, purpose: str = "newsletter", **fields):
    """Post a grant of a purpose (the seeded newsletter unless named) through the consent API."""
    payload = {"email": email, "purpose": purpose, "action": "grant", "wording": "Yes.", **fields}
    return api.post("/api/v1/consents/", payload, format="json")


def written() -> tuple[int, int, int]:
    return ConsentEvent.objects.count(), ConsentState.objects.count(), AuditEvent.objects.count()


def test_a_grant_dated_in_the_future_is_refused_naming_the_field(api):
    ContactFactory(email="ines.moreau@example.org")
    before = written()

    refused = push(api, "ines.moreau@example.org", occurred_at="2099-01-01T00:00:00Z")

    assert refused.status_code == 400
    assert "future" in refused.json()["occurred_at"][0]
    assert written() == before


def test_a_backdated_grant_needs_a_reason_and_is_marked_in_the_proof(api):
    contact = ContactFactory(email="ines.moreau@example.org")
    last_week = (timezone.now() - timedelta(days=7)).isoformat()
    before = written()

    refused = push(api, contact.email, occurred_at=last_week)
    assert refused.status_code == 400
    assert "backdate_reason" in refused.json()
    assert written() == before

    accepted = push(
        api, contact.email, occurred_at=last_week, backdate_reason="Signed at the fair, typed now."
    )

    assert accepted.status_code == 201
    proof = api.get(f"/api/v1/contacts/{contact.pk}/consents/").json()[0]["proof"]
    assert proof["backdate_reason"] == "Signed at the fair, typed now."
    assert proof["recorded_at"] > proof["occurred_at"]


def test_a_grant_from_a_fast_clock_does_not_outlive_the_preference_centre(api, client, newsletter):
    contact = ContactFactory(email="ines.moreau@example.org")
    ahead = (timezone.now() + timedelta(minutes=4)).isoformat()
    assert push(api, contact.email, newsletter.code, occurred_at=ahead).status_code == 201
    path = site_path(preferences_url(contact))

    saved = client.post(path, {"nonce": hidden_value(client.get(path), "nonce"), "purposes": []})

    assert "Your choices are saved." in text(saved)
    assert consent_states(contact)[newsletter.code] == "withdraw"
    ConsentState.objects.all().delete()
    rebuild_consent_states()
    assert consent_states(contact)[newsletter.code] == "withdraw"


def test_a_late_entry_of_an_older_grant_does_not_undo_a_withdrawal(api, client, newsletter):
    contact = ContactFactory(email="ines.moreau@example.org")
    push(api, contact.email, newsletter.code)
    path = site_path(preferences_url(contact))
    client.post(path, {"nonce": hidden_value(client.get(path), "nonce"), "purposes": []})
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    push(
        api,
        contact.email,
        newsletter.code,
        occurred_at=yesterday,
        backdate_reason="Paper form from the desk.",
    )
    assert consent_states(contact)[newsletter.code] == "withdraw"

    push(
        api, contact.email, newsletter.code
    )  # a fresh grant recorded after the withdrawal does count

    assert consent_states(contact)[newsletter.code] == "grant"
    ConsentState.objects.all().delete()
    rebuild_consent_states()
    assert consent_states(contact)[newsletter.code] == "grant"
