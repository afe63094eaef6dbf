"""The contacts and companies API, over real HTTP against a live server."""

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEvent
from crm.models import Contact, ContactSource, Source
from tests.crm.factories import ContactFactory, ContactSourceFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEW_CONTACT = {
    "first_name": "Elena",
    "last_name": "Dumitru",
    "email": " Elena.Dumitru@Example.NET ",
    "phone": "+44 20 7946 0777",
    "country": "Romania",
    "source": {
        "kind": "web_form",
        "name": "Shop checkout",
        "reference": "https://shop.example.org/checkout",
    },
}


@pytest.fixture
def api(live_server, staff_token):
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1/",
        headers={"Authorization": f"Token {staff_token}"},
        timeout=10,
    ) as client:
        yield client


def test_requests_without_a_token_are_refused(live_server):
    response = httpx.get(f"{live_server.url}/api/v1/contacts/")
    assert response.status_code == 401


def test_a_token_of_a_non_staff_user_is_refused(live_server):
    user = User.objects.create_user("visitor", password="not-used-here-42")
    token = Token.objects.create(user=user).key
    response = httpx.get(
        f"{live_server.url}/api/v1/contacts/", headers={"Authorization": f"Token {token}"}
    )
    assert response.status_code == 403


def test_create_normalises_and_records_provenance(api, admin_user):
    response = api.post("contacts/", json=NEW_CONTACT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "elena.dumitru@example.net"
    assert body["phone"] == "+442079460777"
    assert body["country"] == "RO"
    assert body["provenance"][0]["kind"] == "web_form"
    assert body["provenance"][0]["reference"] == "https://shop.example.org/checkout"
    provenance = ContactSource.objects.get(contact_id=body["id"])
    assert provenance.collected_by == admin_user
    assert AuditEvent.objects.filter(object_id=str(body["id"]), channel="api").exists()


def test_invalid_fields_get_400_with_every_field_error_and_nothing_is_saved(api):
    response = api.post(
        "contacts/",
        json={**NEW_CONTACT, "email": "elena@", "phone": "12", "country": "Atlantis"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email", "phone", "country"}
    assert not Contact.objects.exists()
    assert not Source.objects.exists()


def test_provenance_is_required(api):
    payload = {key: value for key, value in NEW_CONTACT.items() if key != "source"}
    response = api.post("contacts/", json=payload)
    assert response.status_code == 400
    assert "source" in response.json()


def test_duplicate_is_refused_with_a_pointer_to_the_existing_contact(api):
    existing = ContactFactory(email="elena.dumitru@example.net")
    response = api.post("contacts/", json=NEW_CONTACT)
    assert response.status_code == 400
    body = response.json()
    assert "already exists" in body["email"][0]
    assert body["existing_contact"] == {
        "id": existing.pk,
        "url": f"/api/v1/contacts/{existing.pk}/",
    }
    assert Contact.objects.count() == 1


def test_partial_update_normalises_and_refuses_bad_input_without_change(api):
    contact = ContactFactory(phone="+31612345678")
    ok = api.patch(f"contacts/{contact.pk}/", json={"phone": "020 7946 0999", "country": "GB"})
    assert ok.status_code == 200
    assert ok.json()["phone"] == "+442079460999"
    bad = api.patch(f"contacts/{contact.pk}/", json={"phone": "nonsense", "job_title": "CEO"})
    assert bad.status_code == 400
    assert "phone" in bad.json()
    contact.refresh_from_db()
    assert contact.phone == "+442079460999"
    assert contact.job_title != "CEO"


def test_contacts_cannot_be_deleted_through_the_api(api):
    contact = ContactFactory()
    assert api.delete(f"contacts/{contact.pk}/").status_code == 405
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_list_filters_by_country_and_search_and_rejects_unknown_countries(api):
    ContactFactory(email="aoife.murphy@example.org", country="IE")
    ContactFactory(email="lena.weber@example.org", country="DE")
    by_country = api.get("contacts/", params={"country": "Ireland"}).json()["results"]
    assert [c["email"] for c in by_country] == ["aoife.murphy@example.org"]
    by_search = api.get("contacts/", params={"search": "lena.w"}).json()["results"]
    assert [c["email"] for c in by_search] == ["lena.weber@example.org"]
    bad = api.get("contacts/", params={"country": "Atlantis"})
    assert bad.status_code == 400
    assert "country" in bad.json()


def test_reading_a_contact_shows_provenance_and_is_audited(api, admin_user):
    provenance = ContactSourceFactory(source__name="Benelux business directory")
    body = api.get(f"contacts/{provenance.contact.pk}/").json()
    assert body["provenance"][0]["name"] == "Benelux business directory"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEWED, object_id=str(provenance.contact.pk), actor=admin_user
    ).exists()


def test_company_create_normalises_and_validates(api):
    created = api.post(
        "companies/",
        json={
            "name": "Liffey Foods",
            "website": "https://www.liffey.example.org/",
            "country": "IE",
        },
    )
    assert created.status_code == 201
    assert created.json()["domain"] == "liffey.example.org"
    bad = api.post("companies/", json={"name": "Nowhere Ltd", "country": "Atlantis"})
    assert bad.status_code == 400
    assert "country" in bad.json()


def test_schema_and_docs_are_served_to_staff_only(live_server, staff_token):
    for path in ("/api/schema/", "/api/docs/"):
        assert httpx.get(f"{live_server.url}{path}").status_code == 401
    staff = {"Authorization": f"Token {staff_token}"}
    schema = httpx.get(f"{live_server.url}/api/schema/", headers=staff)
    assert schema.status_code == 200
    assert "/api/v1/contacts/" in schema.text
    assert httpx.get(f"{live_server.url}/api/docs/", headers=staff).status_code == 200


@pytest.mark.django_db
def test_contact_list_query_count_does_not_grow_with_rows(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    ContactFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/contacts/")
    ContactFactory.create_batch(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/contacts/")
    assert len(response.json()["results"]) == 33
    assert len(many) == len(few)
