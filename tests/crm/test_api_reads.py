"""Least privilege in the contacts API: every read audited, details and bulk copies by role."""

import csv
import io

import pytest

from core.models import AuditEvent
from crm.models import Contact
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


def list_reads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.VIEWED, object_id=""))


@pytest.mark.parametrize("role", ["Marketing", "Support"])
def test_roles_that_may_not_export_page_through_contacts_without_their_details(role_client, role):
    ContactFactory.create_batch(3, phone="+31612345678")
    client = role_client(role)

    page = client.get("/api/v1/contacts/", {"page_size": 500})

    assert page.status_code == 200
    rows = page.json()["results"]
    assert len(rows) == 3
    assert all("email" not in row and "phone" not in row for row in rows)
    assert all(row["last_name"] for row in rows)


def test_a_list_read_is_one_audit_event_naming_every_contact_shown(role_client):
    shown = ContactFactory.create_batch(4)
    client = role_client("Marketing")

    client.get("/api/v1/contacts/")

    (event,) = list_reads()
    assert event.channel == "api"
    assert event.actor.username == "marketing"
    assert sorted(event.details["ids"]) == sorted(contact.pk for contact in shown)
    assert event.details["count"] == 4


def test_the_page_size_is_capped_for_everyone(role_client):
    ContactFactory.create_batch(120)
    client = role_client("Privacy officer")

    rows = client.get("/api/v1/contacts/", {"page_size": 500}).json()["results"]

    assert len(rows) == 100
    assert "email" in rows[0]
    assert list_reads()[0].details["count"] == 100


@pytest.mark.parametrize("role", ["Marketing", "Support"])
def test_the_bulk_export_is_refused_to_roles_that_may_not_export(role_client, role):
    ContactFactory.create_batch(2)

    answer = role_client(role).post("/api/v1/contacts/export/", {"reason": "Just because."})

    assert answer.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()


def test_the_bulk_export_asks_for_a_reason_and_is_audited(role_client):
    ContactFactory(email="mara.popescu@example.org", country="RO")
    ContactFactory(email="jan.devries@example.org", country="NL")
    client = role_client("Privacy officer")

    refused = client.post("/api/v1/contacts/export/", {"country": "RO"})
    assert refused.status_code == 400
    assert "reason" in refused.json()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()

    done = client.post(
        "/api/v1/contacts/export/", {"country": "RO", "reason": "Art. 15 request no. 12."}
    )

    assert done.status_code == 200
    assert done["Cache-Control"].startswith("max-age=0")
    rows = list(csv.reader(io.StringIO(done.content.decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:]] == ["mara.popescu@example.org"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORTED)
    assert (event.reason, event.channel) == ("Art. 15 request no. 12.", "api")
    assert event.details["ids"] == [Contact.objects.get(country="RO").pk]
