"""Requests from other sites through the API: verified by e-mail like the form; staff read them."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from privacy.models import SubjectRequest
from tests.crm.factories import ContactFactory
from tests.privacy.request_steps import (
    SubjectRequestFactory,
    isolate,
    mails_to,
    request_rows,
    verification_link,
)

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/requests/"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def api_post(client, token: str, payload: dict):
    return client.post(
        REQUESTS, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )


def api_get(client, token: str, path: str):
    return client.get(path, HTTP_AUTHORIZATION=f"Token {token}")


@pytest.fixture
def visitor_token() -> str:
    visitor = get_user_model().objects.create(username="visitor", is_staff=False)
    return Token.objects.create(user=visitor).key


def test_a_request_from_another_site_waits_for_the_same_e_mail_verification(
    client, staff_token, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="wouter.jacobs@example.org")

    with django_capture_on_commit_callbacks() as queued:
        response = api_post(
            client,
            staff_token,
            {"kind": "portability", "email": " Wouter.Jacobs@example.org", "details": "Via shop."},
        )

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "unverified"
    assert body["channel"] == "api"
    assert body["due_at"] is None
    assert "email" not in body
    assert len(queued) == 1
    created = SubjectRequest.objects.get(pk=body["id"])
    assert created.contact is None

    assert client.post(verification_link(created)).status_code == 200

    created.refresh_from_db()
    assert mails_to(contact.email)[0].subject == f"Your privacy request #{created.pk}"
    assert created.status == SubjectRequest.Status.OPEN
    assert created.contact == contact


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "delete_everything", "email": "wouter.jacobs@example.org"}, "kind"),
        ({"kind": "access", "email": "wouter.jacobs@"}, "email"),
        ({"kind": "access"}, "email"),
        ({"kind": "objection", "email": "w@example.org", "purposes": ["no_such_code"]}, "purposes"),
    ],
)
def test_bad_input_is_a_400_with_the_field_named_and_nothing_is_stored(
    client, staff_token, payload, field
):
    response = api_post(client, staff_token, payload)

    assert response.status_code == 400
    assert field in response.json()
    assert not SubjectRequest.objects.exists()


def test_too_many_requests_for_one_address_are_throttled(client, staff_token, settings):
    settings.REQUEST_RATE_PER_EMAIL = 2
    payload = {"kind": "access", "email": "wouter.jacobs@example.org"}
    assert api_post(client, staff_token, payload).status_code == 202
    assert api_post(client, staff_token, payload).status_code == 202

    refused = api_post(client, staff_token, payload)

    assert refused.status_code == 429
    assert SubjectRequest.objects.count() == 2


def test_staff_read_where_a_request_stands_without_the_address(client, staff_token):
    subject_request = SubjectRequestFactory(
        email="wouter.jacobs@example.org", details="Write to Wouter at home."
    )

    response = api_get(client, staff_token, f"{REQUESTS}{subject_request.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == subject_request.pk
    assert body["status"] == "open"
    assert body["kind"] == "access"
    assert body["deadline"]
    assert "wouter" not in response.content.decode().lower()
    assert api_get(client, staff_token, f"{REQUESTS}999999/").status_code == 404


def test_non_staff_and_anonymous_callers_are_refused(client, visitor_token):
    subject_request = SubjectRequestFactory()
    before = request_rows()

    payload = {"kind": "access", "email": "wouter.jacobs@example.org"}
    assert api_post(client, visitor_token, payload).status_code == 403
    assert api_get(client, visitor_token, f"{REQUESTS}{subject_request.pk}/").status_code == 403
    assert client.post(REQUESTS, payload, content_type="application/json").status_code == 401
    assert client.get(f"{REQUESTS}{subject_request.pk}/").status_code == 401
    assert request_rows() == before


def test_a_purpose_code_with_a_nul_character_is_refused_on_every_database(client, staff_token):
    """PostgreSQL would refuse the lookup itself; the field refuses it first, with its name."""
    response = api_post(
        client,
        staff_token,
        {"kind": "objection", "email": "lena.brandt@example.org", "purposes": ["news\x00letter"]},
    )

    assert response.status_code == 400
    assert "control character" in str(response.json()["purposes"])
    assert not SubjectRequest.objects.exists()
