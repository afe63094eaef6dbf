"""The export built by PostgreSQL is the same document as the one built in Python."""

import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import escape

import pytest
from django.db import connection
from django.db.models import JSONField, Value
from django.utils import timezone

from core.models import OutboundEvent
from core.registry import registry
from crm.models import Invoice
from privacy.consent.ledger import RequestMetadata
from privacy.requests.export_sql import builds_in_database, json_rows
from privacy.requests.exports import export_rows, export_subject, write_archive
from tests.crm.factories import ContactSourceFactory, InteractionFactory
from tests.privacy.factories import ContactFactory, grant, withdraw
from tests.privacy.request_steps import isolate

pytestmark = pytest.mark.django_db
AWKWARD = "Zoë «Straße» 東京 😀 tab\there \x01\x1f \\ \" ' <b>&amp;</b>"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


@pytest.fixture
def awkward(newsletter, offers, notice):
    """A person whose rows hold dates, decimals, non-ASCII, control characters, nulls and JSON."""
    contact = ContactFactory(
        first_name="Zoë",
        last_name="Ångström-東京",
        job_title=AWKWARD,
        phone="",
        birth_date=None,
        last_activity_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )
    ContactSourceFactory(contact=contact, reference=AWKWARD, informed_at=date(1999, 12, 31))
    InteractionFactory(
        contact=contact,
        subject=AWKWARD,
        body="line one\nline two\r\n\x0b\x7f end",
        occurred_at=datetime(2026, 5, 6, 7, 8, 9, 120, tzinfo=UTC),
    )
    InteractionFactory(contact=contact, subject="", body="", occurred_at=timezone.now())
    grant(
        contact, newsletter, metadata=RequestMetadata(user_agent=AWKWARD, ip_address="2001:db8::1")
    )
    grant(contact, offers, metadata=RequestMetadata(user_agent="x", ip_address="192.0.2.7"))
    withdraw(contact, offers)
    Invoice.objects.create(
        number="F-1",
        contact=contact,
        issued_on=date(2026, 1, 1),
        due_on=date(2026, 2, 1),
        amount=Decimal("1234.50"),
        hold_until=date(2027, 2, 1),
    )
    OutboundEvent.objects.create(
        id=uuid.uuid4(),
        kind="contact.changed",
        occurred_at=timezone.now() - timedelta(microseconds=1),
        contact_id=contact.pk,
        data={"fields": ["job_title"], "note": AWKWARD, "n": 1.5, "big": 10**20, "none": None},
    )
    return contact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL builds the JSON")
def test_every_table_built_by_postgresql_equals_the_python_rows(awkward):
    for declaration in registry:
        assert builds_in_database(declaration, "default"), declaration.label
        built = [json.loads(text) for text in json_rows(declaration, [awkward.pk])]
        assert built == list(export_rows(declaration, [awkward.pk])), declaration.label


def test_the_zip_holds_the_python_rows_of_every_declared_table(awkward):
    # The rows as the Python path builds them, read before the export adds its own row.
    expected = {
        d.label: json.loads(json.dumps(list(export_rows(d, [awkward.pk])))) for d in registry
    }
    export = export_subject(contact=awkward, requested_by=None, channel="admin")

    with zipfile.ZipFile(io.BytesIO(export.file.read())) as archive:
        document = json.loads(archive.read("data.json"))
        page = archive.read("index.html").decode()
    tables = document["tables"]
    assert list(tables) == [d.label for d in registry]
    assert {label: table["rows"] for label, table in tables.items()} == expected
    assert tables["crm.contact"]["rows"][0]["job_title"] == AWKWARD
    assert tables["crm.invoice"]["rows"][0]["amount"] == "1234.50"
    assert tables["crm.interaction"]["rows"][0]["occurred_at"] == "2026-05-06T07:08:09.000120+00:00"
    assert "Zoë" in page
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in page
    assert export.rows == sum(len(t["rows"]) for t in tables.values())


def _archive(contact, *, generated, in_database: bool) -> tuple[dict, bytes]:
    """Write the person's zip in memory; return its parsed data.json and index.html's bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        write_archive(archive, contact, generated=generated, in_database=in_database)
    with zipfile.ZipFile(buffer) as archive:
        return json.loads(archive.read("data.json")), archive.read("index.html")


def test_the_page_and_the_document_are_the_same_on_both_paths(awkward):
    # JSON values that repeat, nest, hold markup, and one that is JSON null.
    repeated = {"tags": ["<i>", "&"], "ok": True}
    for data in (repeated, repeated, Value(None, JSONField())):
        OutboundEvent.objects.create(
            id=uuid.uuid4(),
            kind="contact.changed",
            occurred_at=timezone.now(),
            contact_id=awkward.pk,
            data=data,
        )
    generated = timezone.now()

    document, page = _archive(awkward, generated=generated, in_database=True)
    python_document, python_page = _archive(awkward, generated=generated, in_database=False)

    assert page == python_page
    assert document == python_document
    text = page.decode()
    assert f"<td>{escape(AWKWARD)}</td>" in text
    assert "<td>None</td>" in text  # the contact's birth date
    assert "<td>False</td>" in text  # is the contact restricted
    # A JSON value as Python prints it (PostgreSQL keeps the keys of its own order).
    assert "&#x27;tags&#x27;: [&#x27;&lt;i&gt;&#x27;, &#x27;&amp;&#x27;]" in text
    assert text.count("<tr><td>") == sum(len(t["rows"]) for t in document["tables"].values())
