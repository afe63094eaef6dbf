"""The API answers 429 with a JSON body and Retry-After past its limits, per account and address."""

import pytest
from rest_framework.test import APIClient

from core.api import AccountRateThrottle, AddressRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    """Low limits for the test (DRF reads the rates once, when the throttle classes load)."""
    low = {"account": "3/minute", "address": "2/minute"}
    monkeypatch.setattr(AccountRateThrottle, "THROTTLE_RATES", low)
    monkeypatch.setattr(AddressRateThrottle, "THROTTLE_RATES", low)


def _client(token: str | None = None, address: str = "198.51.100.40") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_an_account_past_its_limit_gets_429_with_a_json_body_and_retry_after(rates, staff_token):
    api = _client(staff_token)
    for _ in range(3):
        assert api.get("/api/v1/contacts/").status_code == 200
    refused = api.get("/api/v1/contacts/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    body = refused.json()
    assert body["detail"].startswith("Request was throttled.")
    assert 1 <= body["retry_after"] <= 60
    assert refused["Retry-After"] == str(body["retry_after"])
    # The limit is the account's, wherever it calls from.
    assert _client(staff_token, "203.0.113.8").get("/api/v1/contacts/").status_code == 429


def test_guessing_tokens_from_one_address_is_throttled(rates):
    guesser = _client("0000000000000000000000000000000000000000")
    assert [guesser.get("/api/v1/contacts/").status_code for _ in range(3)] == [401, 401, 429]
    assert _client(None).get("/api/v1/contacts/").status_code == 429
    assert _client(None, "203.0.113.8").get("/api/v1/contacts/").status_code == 401


def test_anonymous_readers_of_the_schema_are_refused_and_limited_per_address(rates):
    reader = _client()
    assert [reader.get("/api/schema/").status_code for _ in range(3)] == [401, 401, 429]
