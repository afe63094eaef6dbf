"""Invoices pushed through the API: a billing record with its legal hold, the person's activity."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from crm.invoices import hold_end, record_invoice
from crm.models import Contact, Invoice
from privacy.deletion.erasure import erase_subject
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=admin_user)
    return client


@pytest.fixture
def customer() -> Contact:
    """A customer whose own last activity was a year ago."""
    contact = ContactFactory(email="femke.jacobs@example.org", relationship="customer")
    a_year_ago = timezone.now() - timedelta(days=365)
    Contact.objects.filter(pk=contact.pk).update(last_activity_at=a_year_ago)
    contact.refresh_from_db()
    return contact


def payload(contact: Contact, **changes) -> dict:
    return {
        "number": "2026-0042",
        "contact": contact.pk,
        "issued_on": "2026-01-15",
        "due_on": "2026-02-14",
        "amount": "1249.50",
        "currency": "eur",
        **changes,
    }


def stored() -> dict[str, object]:
    """What posting an invoice could write."""
    return {
        "invoices": list(Invoice.objects.order_by("pk").values()),
        "activity": list(Contact.objects.order_by("pk").values_list("pk", "last_activity_at")),
        "audit": AuditEvent.objects.count(),
    }


def test_an_invoice_is_stored_with_its_hold_and_counts_as_the_persons_activity(
    api, customer, admin_user
):
    before = timezone.now()

    response = api.post(URL, payload(customer), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["currency"], body["amount"]) == ("2026-0042", "EUR", "1249.50")
    assert (body["due_on"], body["hold_until"]) == ("2026-02-14", "2027-02-14")
    invoice = Invoice.objects.get()
    assert (invoice.contact, invoice.amount) == (customer, Decimal("1249.50"))
    customer.refresh_from_db()
    assert customer.last_activity_at >= before
    audit = AuditEvent.objects.get(object_id=str(invoice.pk), action="created")
    assert (audit.actor, audit.channel, audit.details) == (
        admin_user,
        "api",
        {"contact": customer.pk},
    )


def test_an_invoice_due_on_29_february_is_held_until_28_february(api, customer):
    response = api.post(
        URL, payload(customer, issued_on="2028-02-01", due_on="2028-02-29"), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["hold_until"] == "2029-02-28"
    assert hold_end(date(2028, 2, 29)) == date(2029, 2, 28)
    assert hold_end(date(2027, 3, 1)) == date(2028, 3, 1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issued_on": "2026-03-01", "due_on": "2026-02-14"}, "due_on"),
        ({"amount": "-10.00"}, "amount"),
    ],
    ids=["due before issue", "negative amount"],
)
def test_impossible_dates_or_amounts_get_400_with_the_field_and_nothing_is_stored(
    api, customer, changes, field
):
    before = stored()

    response = api.post(URL, payload(customer, **changes), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert stored() == before


def test_a_duplicate_number_gets_400_and_nothing_is_stored(api, customer):
    assert api.post(URL, payload(customer), format="json").status_code == 201
    Contact.objects.filter(pk=customer.pk).update(
        last_activity_at=timezone.now() - timedelta(days=9)
    )
    before = stored()

    response = api.post(URL, payload(customer, amount="10.00"), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"number"}
    assert stored() == before


def test_a_duplicate_number_caught_by_the_database_is_a_field_error_too(customer):
    record_invoice(
        contact=customer,
        number="2026-0099",
        issued_on=date(2026, 1, 1),
        due_on=date(2026, 1, 31),
        amount=Decimal("10.00"),
        currency="EUR",
        actor=None,
        channel="api",
    )
    before = stored()

    with pytest.raises(ValidationError) as refused:
        record_invoice(
            contact=customer,
            number="2026-0099",
            issued_on=date(2026, 1, 1),
            due_on=date(2026, 1, 31),
            amount=Decimal("10.00"),
            currency="EUR",
            actor=None,
            channel="api",
        )

    assert refused.value.message_dict == {"number": ["An invoice with this number already exists."]}
    assert stored() == before


def test_no_invoice_can_be_attached_to_an_erased_person(api, admin_user):
    erased = ContactFactory(email="joost.erased@example.org", relationship="customer")
    due_soon = timezone.localdate() + timedelta(days=5)
    record_invoice(
        contact=erased,
        number="2026-0001",
        issued_on=due_soon - timedelta(days=30),
        due_on=due_soon,
        amount=Decimal("99.00"),
        currency="EUR",
        actor=admin_user,
        channel="api",
    )
    erase_subject(contact=erased, requested_by=admin_user, channel="admin")
    erased.refresh_from_db()
    assert erased.anonymised_at is not None  # kept only for the invoice on hold
    before = stored()

    response = api.post(URL, payload(erased, number="2026-0002"), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "contact": ["This person was erased; no new records can be attached."]
    }
    assert stored() == before


def test_the_invoice_list_runs_the_same_queries_for_2_or_12_invoices(api, customer):
    def push(n: int) -> None:
        response = api.post(URL, payload(customer, number=f"2026-{n:04}"), format="json")
        assert response.status_code == 201

    for n in range(2):
        push(n)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(URL).json()["results"]) == 2
    for n in range(2, 12):
        push(n)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL).json()["results"]) == 12
    assert len(many) == len(few)


def test_opening_an_invoice_in_the_admin_is_in_the_audit_trail(customer, admin_user, admin_client):
    invoice = record_invoice(
        contact=customer,
        number="2026-0077",
        issued_on=date(2026, 1, 15),
        due_on=date(2026, 2, 14),
        amount=Decimal("99.00"),
        currency="eur",
        actor=admin_user,
        channel="api",
    )

    page = admin_client.get(f"/admin/crm/invoice/{invoice.pk}/change/")

    assert page.status_code == 200
    viewed = AuditEvent.objects.get(
        action=AuditEvent.Action.VIEWED, object_type__model="invoice", object_id=str(invoice.pk)
    )
    assert (viewed.actor, viewed.channel) == (admin_user, "admin")
    assert "femke" not in str(viewed.details).lower()
