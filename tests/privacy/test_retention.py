"""Retention: each default rule on a frozen clock, people removed through the registry, legal holds.

Every run here is given `now`, the clock the test freezes at its start; ages are set by moving the
rows' own timestamps back with `update()` (creation times are filled in by the database). The
rules are created by each test's `rules` fixture from the seeding migration's defaults, because a
transactional test elsewhere in the suite may have flushed the seeded rows.
"""

import importlib
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

import privacy.deletion.retention as retention
from core.models import AuditEvent
from core.registry import Anonymise, Delete, Retain, registry
from crm.contact_form import confirm_sender, mark_answered, receive_contact_message
from crm.contacts import create_contact, update_contact
from crm.invoices import record_invoice
from crm.models import Contact, Interaction, Invoice, Suppression
from crm.suppression import may_contact, suppress
from privacy import tasks
from privacy.consent.ledger import RequestMetadata
from privacy.consent.subscriptions import confirm_subscription, request_subscription
from privacy.deletion.erasure import erase_subject
from privacy.deletion.retention import RetentionBusy, preview, run_rule
from privacy.models import (
    NoticeDelivery,
    RetentionRule,
    RetentionRun,
    SubjectExport,
    SubjectRequest,
)
from privacy.requests.exports import export_subject
from privacy.requests.subject_requests import (
    complete_request,
    log_staff_request,
    restrict_processing,
)
from tests.crm.factories import ContactSourceFactory, InteractionFactory
from tests.orphans import orphaned_rows, rows_linked_to
from tests.privacy.factories import ClientFactory, ContactFactory, grant, withdraw
from tests.privacy.pages import link_in
from tests.privacy.request_steps import SubjectRequestFactory, form_data, isolate
from tests.privacy.subscription_steps import mail_confirmations

pytestmark = pytest.mark.django_db

DEFAULTS = importlib.import_module("privacy.migrations.0006_default_retention_rules").RULES
INACTIVE = "inactive_customers_subscribers"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


@pytest.fixture
def now() -> datetime:
    """The frozen clock of the test: every run and every age is measured from it."""
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def rules(db) -> dict[str, RetentionRule]:
    """The seeded default rules, active, with their default periods and actions; no other."""
    seeded = {
        kind: RetentionRule.objects.update_or_create(
            kind=kind,
            defaults={"period_days": period, "note": note, "action": "delete", "is_active": True},
        )[0]
        for kind, period, note in DEFAULTS
    }
    RetentionRule.objects.exclude(kind__in=seeded).update(is_active=False)
    return seeded


def days(n: int) -> timedelta:
    return timedelta(days=n)


def person(
    email: str,
    *,
    now: datetime,
    relationship: str = Contact.Relationship.CUSTOMER,
    active_days_ago: int | None = None,
    created_days_ago: int = 1500,
    **fields,
) -> Contact:
    """Create a contact whose own last activity (None: never) and creation lie that far back."""
    contact = ContactFactory(email=email, relationship=relationship, **fields)
    moments = {
        "created_at": now - days(created_days_ago),
        "last_activity_at": None if active_days_ago is None else now - days(active_days_ago),
    }
    Contact.objects.filter(pk=contact.pk).update(**moments)
    contact.refresh_from_db()
    return contact


def emails() -> set[str]:
    return set(Contact.objects.values_list("email", flat=True))


def invoice(contact: Contact, *, due_on, number: str) -> Invoice:
    """Record an invoice the way the billing API does; it counts as the person's activity."""
    return record_invoice(
        contact=contact,
        number=number,
        issued_on=due_on - days(30),
        due_on=due_on,
        amount=Decimal("249.00"),
        currency="eur",
        actor=None,
        channel="api",
    )


def restrict(contact: Contact, officer) -> None:
    """Restrict the person's processing the way the officer does: through their request."""
    request = log_staff_request(
        kind=SubjectRequest.Kind.RESTRICTION,
        email=contact.email,
        channel=SubjectRequest.Channel.EMAIL,
        received_at=timezone.now(),
        identity_check="Replied from the address on file.",
        actor=officer,
    )
    restrict_processing(request=request, actor=officer)


def data_rows() -> dict[str, list[str]]:
    """Every row of every table but the run history, comparable before and after."""
    dump = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table == RetentionRun._meta.db_table:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump[table] = sorted(map(repr, cursor.fetchall()))
    return dump


def tables_holding(traces: tuple[str, ...]) -> dict[str, list[str]]:
    """Map each table to the traces (e-mail, phone, name) any of its cells still holds."""
    found = {}
    for table, rows in data_rows().items():
        text = "\n".join(rows).lower()
        hits = [trace for trace in traces if trace.lower() in text]
        if hits:
            found[table] = hits
    return found


def stored_files() -> set[str]:
    folder = Path(django_settings.PRIVATE_FILES_DIR)
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


# Each default rule takes exactly its rows, and none a day younger --------------------------------


def test_inactive_customers_and_subscribers_go_after_two_years_and_not_a_day_sooner(rules, now):
    person("gone.customer@example.org", now=now, active_days_ago=731)
    person(
        "gone.subscriber@example.org",
        now=now,
        relationship="subscriber",
        active_days_ago=None,
        created_days_ago=731,
    )
    kept = {
        person("day.younger@example.org", now=now, active_days_ago=730).email,
        person(
            "never.active.day.younger@example.org",
            now=now,
            relationship="subscriber",
            created_days_ago=730,
        ).email,
        # Own activity counts, not the age of the record.
        person("old.but.active@example.org", now=now, active_days_ago=729).email,
    }
    for relationship in ("prospect", "client_employee", "partner_employee"):
        kept.add(
            person(
                f"{relationship}@example.net",
                now=now,
                relationship=relationship,
                active_days_ago=3000,
                created_days_ago=3000,
            ).email
        )

    run = run_rule(rules[INACTIVE], now=now)

    assert emails() == kept
    assert (run.status, run.selected, run.acted, run.held) == ("completed", 2, 2, 0)
    assert run.receipt == {"crm.contact": 2}


def test_answered_contact_form_messages_go_90_days_after_the_answer(rules, now, admin_user):
    def answered(email: str, answered_days_ago: int) -> Interaction:
        message = receive_contact_message(name="Lena Vos", email=email, message=f"Hi from {email}")
        mark_answered(interaction=message, actor=admin_user)
        Interaction.objects.filter(pk=message.pk).update(
            occurred_at=now - days(answered_days_ago + 5),
            answered_at=now - days(answered_days_ago),
        )
        return message

    gone = answered("lena.vos@example.org", 91)
    day_younger = answered("lena.vos2@example.org", 90)
    unanswered = receive_contact_message(
        name="Piet Vos", email="piet.vos@example.org", message="Still waiting."
    )
    Interaction.objects.filter(pk=unanswered.pk).update(occurred_at=now - days(300))
    call = InteractionFactory(kind=Interaction.Kind.CALL, occurred_at=now - days(3000))
    Interaction.objects.filter(pk=call.pk).update(answered_at=now - days(3000))

    run = run_rule(rules["contact_form_answered"], now=now)

    remaining = set(Interaction.objects.values_list("pk", flat=True))
    assert remaining == {day_younger.pk, unanswered.pk, call.pk}
    assert gone.pk not in remaining
    assert Contact.objects.filter(email="lena.vos@example.org").exists()  # only the message
    assert (run.acted, run.receipt) == (1, {"crm.interaction": 1})


def test_unanswered_contact_form_messages_go_a_year_after_they_arrived(rules, now, admin_user):
    def arrived(email: str, days_ago: int) -> Interaction:
        message = receive_contact_message(name="Sara Kok", email=email, message=f"From {email}")
        Interaction.objects.filter(pk=message.pk).update(occurred_at=now - days(days_ago))
        return message

    arrived("sara.kok@example.org", 366)
    day_younger = arrived("sara.kok2@example.org", 365)
    answered_recently = arrived("sara.kok3@example.org", 800)
    mark_answered(interaction=answered_recently, actor=admin_user)

    run = run_rule(rules["contact_form_unanswered"], now=now)

    assert set(Interaction.objects.values_list("pk", flat=True)) == {
        day_younger.pk,
        answered_recently.pk,
    }
    assert run.acted == 1


def test_unverified_and_expired_requests_go_after_seven_days(rules, now, newsletter):
    def request(status: str, days_ago: int, **fields) -> SubjectRequest:
        return SubjectRequestFactory(
            status=status, received_at=now - days(days_ago), verified_at=None, **fields
        )

    objection = request("unverified", 8, kind=SubjectRequest.Kind.OBJECTION)
    objection.purposes.set([newsletter])
    request("expired", 8)
    kept = {
        request("unverified", 7).pk,
        request("expired", 7).pk,
        SubjectRequestFactory(received_at=now - days(100)).pk,  # open
        SubjectRequestFactory(status="completed", received_at=now - days(100)).pk,
    }

    run = run_rule(rules["unverified_requests"], now=now)

    assert set(SubjectRequest.objects.values_list("pk", flat=True)) == kept
    assert (run.acted, run.receipt) == (2, {"privacy.subjectrequest": 2})
    connection.check_constraints()  # what the commit checks: nothing points at a removed row


def test_answered_requests_go_three_years_after_they_were_closed(rules, now, admin_user):
    contact = ContactFactory(email="kees.smit@example.org")

    def closed(status: str, days_ago: int) -> SubjectRequest:
        request = SubjectRequestFactory(email=contact.email, contact=contact, status=status)
        SubjectRequest.objects.filter(pk=request.pk).update(completed_at=now - days(days_ago))
        return request

    access = closed("completed", 1096)
    export = export_subject(contact=contact, requested_by=None, channel="task", request=access)
    closed("rejected", 1096)
    kept = {
        closed("completed", 1095).pk,
        closed("rejected", 1095).pk,
        SubjectRequestFactory(received_at=now - days(2000)).pk,  # still open
    }
    # An erasure answered long ago: its certificate stays, as proof, after the request goes.
    erasure = SubjectRequestFactory(
        kind=SubjectRequest.Kind.ERASURE, email="gone.long.ago@example.net"
    )
    certificate = erase_subject(
        contact=ContactFactory(email="gone.long.ago@example.net"),
        requested_by=admin_user,
        channel="admin",
        request=erasure,
    )
    complete_request(request=erasure, actor=admin_user, result="Your data is erased.")
    SubjectRequest.objects.filter(pk=erasure.pk).update(completed_at=now - days(1200))

    run = run_rule(rules["completed_requests"], now=now)

    assert set(SubjectRequest.objects.values_list("pk", flat=True)) == kept
    assert (run.status, run.acted) == ("completed", 3)
    certificate.refresh_from_db()
    assert (certificate.request, certificate.rows_found) == (None, 0)
    export.refresh_from_db()
    assert export.request is None
    connection.check_constraints()


def test_exports_go_once_their_link_expired_and_their_zip_leaves_the_disk(
    rules, now, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="noor.peters@example.org")
    expired = export_subject(contact=contact, requested_by=None, channel="task")
    valid = export_subject(contact=contact, requested_by=None, channel="task")
    SubjectExport.objects.filter(pk=expired.pk).update(expires_at=now - days(1))
    SubjectExport.objects.filter(pk=valid.pk).update(expires_at=now + days(1))
    assert stored_files() == {expired.file.name, valid.file.name}

    with django_capture_on_commit_callbacks(execute=True):
        run = run_rule(rules["expired_exports"], now=now)

    assert list(SubjectExport.objects.values_list("pk", flat=True)) == [valid.pk]
    assert stored_files() == {valid.file.name}
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert run.receipt == {"privacy.subjectexport": 1}


def test_invoices_go_three_years_after_their_due_date(rules, now):
    contact = ContactFactory(email="daan.visser@example.org", relationship="customer")
    cutoff = timezone.localdate(now - days(1095))
    invoice(contact, due_on=cutoff - days(1), number="2020-001")
    kept = invoice(contact, due_on=cutoff, number="2020-002")

    run = run_rule(rules["invoices"], now=now)

    assert list(Invoice.objects.values_list("number", flat=True)) == [kept.number]
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert (run.acted, run.receipt) == (1, {"crm.invoice": 1})


# An inactive person goes with everything the registry holds, and may come back ----------------


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str
    phone: str

    def traces(self) -> tuple[str, ...]:
        return (self.email, self.phone, f"{self.first} {self.last}")


QUIET = Person("Marloes", "Dekker", "marloes.dekker@example.org", "+31611112222")
ACTIVE = Person("Thijs", "Mulder", "thijs.mulder@example.net", "+31633334444")


# The declared models the builder below fills; any other declaration is checked all the same.
FILLED = {
    "admin.logentry",
    "crm.contact",
    "crm.contactsource",
    "crm.interaction",
    "crm.invoice",
    "privacy.consentevent",
    "privacy.consentstate",
    "privacy.erasurecertificate",
    "privacy.noticedelivery",
    "privacy.subjectexport",
    "privacy.subjectrequest",
    "crm.suppression",
}


def subscriber_with_a_row_everywhere(who: Person, *, newsletter, offers, notice, acme, staff):
    """A subscriber, erased once and back by double opt-in, with a row in every declared model."""
    erase_subject(contact=ContactFactory(email=who.email), requested_by=None, channel="command")
    request_subscription(
        email=who.email,
        name=f"{who.first} {who.last}",
        purpose_codes=[newsletter.code],
        language="",
    )
    mail_confirmations()
    token = link_in(mail.outbox[-1].body).rstrip("/").rsplit("/", 1)[-1]
    contact = confirm_subscription(
        token=token, metadata=RequestMetadata(user_agent="Firefox")
    ).contact
    Contact.objects.filter(pk=contact.pk).update(phone=who.phone, job_title="Buyer")
    ContactSourceFactory(contact=contact, reference=f"https://fair.example.org/{who.last}")
    InteractionFactory(
        contact=contact,
        subject=f"Call with {who.first} {who.last}",
        body=f"Call back on {who.phone} or mail {who.email}.",
        staff=staff,
    )
    grant(contact, offers)
    withdraw(contact, offers)
    NoticeDelivery.objects.create(notice=notice, contact=contact, sent_at=timezone.now())
    letter = log_staff_request(
        kind=SubjectRequest.Kind.ACCESS,
        email=who.email,
        channel=SubjectRequest.Channel.POST,
        received_at=timezone.now(),
        identity_check=f"Signed by {who.first} {who.last}.",
        details=f"Please call {who.phone}.",
        letter=SimpleUploadedFile("letter.pdf", f"%PDF {who.last}".encode(), "application/pdf"),
        actor=staff,
    )
    complete_request(request=letter, actor=staff, result="We sent you a copy by post.")
    export_subject(contact=contact, requested_by=staff, channel="admin")
    LogEntry.objects.log_actions(
        staff.pk, Contact.objects.filter(pk=contact.pk), CHANGE, change_message="Changed phone."
    )
    suppress(email=who.email, reason=Suppression.Reason.UNSUBSCRIBE, client=acme)
    old_due = timezone.localdate() - days(800)
    invoice(contact, due_on=old_due, number=f"INV-{who.last}")  # its hold ended long ago
    filled = {d.label for d in registry if d.rows_for(contact_ids=[contact.pk]).exists()}
    assert filled >= FILLED, FILLED - filled
    return contact


def rows_of(contact: Contact) -> dict[str, list[dict]]:
    return {
        d.label: list(d.rows_for(contact_ids=[contact.pk]).order_by("pk").values())
        for d in registry
    }


def test_an_inactive_person_goes_with_everything_held_about_them_and_no_suppression(
    rules, now, newsletter, offers, notice, admin_user, django_capture_on_commit_callbacks
):
    acme = ClientFactory(name="Acme Tiles")
    filled = {"newsletter": newsletter, "offers": offers, "notice": notice, "acme": acme}
    neighbour = subscriber_with_a_row_everywhere(ACTIVE, staff=admin_user, **filled)
    neighbour_files = stored_files()
    quiet = subscriber_with_a_row_everywhere(QUIET, staff=admin_user, **filled)
    Contact.objects.filter(pk=quiet.pk).update(last_activity_at=now - days(731))
    Contact.objects.filter(pk=neighbour.pk).update(last_activity_at=now - days(10))
    before = {
        d.label: list(d.rows_for(contact_ids=[quiet.pk]).values_list("pk", flat=True))
        for d in registry
    }
    neighbour_before = rows_of(neighbour)
    suppressions = list(Suppression.objects.order_by("pk").values())
    linked_before = rows_linked_to(quiet.pk)

    with django_capture_on_commit_callbacks(execute=True):
        run = run_rule(rules[INACTIVE], now=now)

    connection.check_constraints()
    assert set(linked_before) >= {
        "privacy_consentstate.contact_id",
        "privacy_noticedelivery.contact_id",
    }
    assert orphaned_rows() == {}
    assert not Contact.objects.filter(pk=quiet.pk).exists()
    for declaration in registry:
        left = declaration.model._base_manager.filter(pk__in=before[declaration.label])
        if isinstance(declaration.erasure, Delete) or declaration.label == "crm.invoice":
            assert not left.exists(), declaration.label
        elif isinstance(declaration.erasure, Anonymise):  # requests: kept for accountability
            opts = declaration.model._meta
            blank = {n: None if opts.get_field(n).null else "" for n in declaration.erasure.fields}
            assert list(left.values(*blank)) == [blank] * len(before[declaration.label])
        else:  # the client's opt-out and the earlier erasure's proof: hashes only
            assert isinstance(declaration.erasure, Retain)
            assert left.count() == len(before[declaration.label]), declaration.label
    assert tables_holding(QUIET.traces()) == {}
    assert stored_files() == neighbour_files
    assert rows_of(neighbour) == neighbour_before
    # Unlike an erasure, nothing stops them coming back: they went quiet, they did not opt out.
    assert list(Suppression.objects.order_by("pk").values()) == suppressions
    assert may_contact(email=QUIET.email)
    assert create_contact(actor=None, channel="import", email=QUIET.email).pk
    assert run.acted == 1
    assert run.receipt["crm.contact"] == 1
    assert run.receipt["privacy.subjectrequest"] == 1  # anonymised
    assert {"crm.contactsource", "crm.interaction", "privacy.consentevent"} <= set(run.receipt)


# Restriction and legal hold ---------------------------------------------------------------------


def test_a_restricted_inactive_person_is_skipped_and_counted(rules, now, admin_user):
    restricted = person("frozen.account@example.org", now=now, active_days_ago=900)
    InteractionFactory(contact=restricted)
    restrict(restricted, admin_user)
    Contact.objects.filter(pk=restricted.pk).update(last_activity_at=now - days(900))
    person("plain.inactive@example.org", now=now, active_days_ago=900)

    assert preview(rules[INACTIVE], now=now) == {"now": 1, "next_30_days": 1, "restricted": 1}
    run = run_rule(rules[INACTIVE], now=now)

    assert emails() == {"frozen.account@example.org"}
    assert restricted.interactions.count() == 1
    assert (run.acted, run.skipped_restricted) == (1, 1)


def test_a_restricted_persons_contact_form_message_is_skipped_too(rules, now, admin_user):
    kept = receive_contact_message(
        name="Eva Bos", email="eva.bos@example.org", message="Please hold my data."
    )
    restrict(kept.contact, admin_user)
    receive_contact_message(name="Bram Bos", email="bram.bos@example.org", message="Old question")
    Interaction.objects.update(occurred_at=now - days(400))

    run = run_rule(rules["contact_form_unanswered"], now=now)

    assert list(Interaction.objects.values_list("pk", flat=True)) == [kept.pk]
    assert (run.acted, run.skipped_restricted) == (1, 1)


@pytest.fixture
def held_customer(now) -> tuple[Contact, Invoice]:
    """An inactive customer with one invoice still under its hold and one whose hold ended."""
    contact = person(
        "ada.held@example.org",
        now=now,
        first_name="Ada",
        last_name="Hendriks",
        phone="+31655556666",
    )
    InteractionFactory(contact=contact, subject="Order by phone")
    held = invoice(contact, due_on=timezone.localdate(now) - days(100), number="2025-100")
    invoice(contact, due_on=timezone.localdate(now) - days(500), number="2024-500")
    Contact.objects.filter(pk=contact.pk).update(last_activity_at=now - days(800))
    return contact, held


def test_a_legal_hold_anonymises_the_person_until_it_ends_then_the_next_run_deletes_them(
    rules, now, held_customer
):
    contact, held = held_customer
    assert held.hold_until > timezone.localdate(now)

    run = run_rule(rules[INACTIVE], now=now)

    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.email, contact.phone) == (
        "",
        "",
        None,
        "",
    )
    assert contact.anonymised_at == now
    assert list(Invoice.objects.values_list("number", flat=True)) == ["2025-100"]
    assert not contact.interactions.exists()
    assert (run.acted, run.held) == (1, 1)
    assert run.receipt == {"crm.contact": 1, "crm.invoice": 1, "crm.interaction": 1}

    anonymised = list(Contact.objects.filter(pk=contact.pk).values())
    next_day = run_rule(rules[INACTIVE], now=now + days(1))
    assert (next_day.selected, next_day.acted, next_day.held) == (0, 0, 0)
    assert list(Contact.objects.filter(pk=contact.pk).values()) == anonymised

    hold_ended = timezone.make_aware(datetime.combine(held.hold_until + days(1), time(3)))
    assert preview(rules[INACTIVE], now=hold_ended - days(1))["now"] == 0
    after = run_rule(rules[INACTIVE], now=hold_ended)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Invoice.objects.exists()
    assert (after.acted, after.held, after.receipt) == (1, 0, {"crm.contact": 1, "crm.invoice": 1})


def test_the_contact_page_says_why_an_anonymised_person_is_still_there(
    rules, now, held_customer, admin_client
):
    contact, held = held_customer
    # Still the day before in UTC: the page must say the day as staff count it.
    past_midnight = timezone.localtime(now).replace(hour=0, minute=30)
    run_rule(rules[INACTIVE], now=past_midnight)
    page = admin_client.get(reverse("admin:crm_contact_change", args=[contact.pk]))

    assert (
        f"Anonymised on {past_midnight:%Y-%m-%d}, not deleted: 1 invoice(s) must be kept until "
        f"{held.hold_until:%Y-%m-%d} (billing records, legal hold)."
    ) in page.text
    assert "ada.held@example.org" not in page.text

    Invoice.objects.update(hold_until=timezone.localdate() - days(1))
    page = admin_client.get(reverse("admin:crm_contact_change", args=[contact.pk]))
    assert "the row goes at the next purge" in page.text
    run_rule(rules[INACTIVE])
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_an_anonymised_person_cannot_be_edited_in_the_admin_or_through_the_services(
    rules, now, held_customer, admin_client, admin_user
):
    contact, _held = held_customer
    run_rule(rules[INACTIVE], now=now)
    contact.refresh_from_db()
    before = list(Contact.objects.filter(pk=contact.pk).values())
    url = reverse("admin:crm_contact_change", args=[contact.pk])

    page = admin_client.get(url)
    posted = admin_client.post(url, {"first_name": "Ada", "email": "ada.back@example.org"})

    assert 'name="first_name"' not in page.text  # shown read-only, no form field
    assert posted.status_code == 403
    with pytest.raises(ValidationError, match="was erased"):
        update_contact(contact=contact, actor=admin_user, channel="api", first_name="Ada")
    assert list(Contact.objects.filter(pk=contact.pk).values()) == before


def test_an_erasure_with_an_invoice_on_hold_anonymises_and_the_purge_after_the_hold_deletes(
    rules, now, admin_user
):
    # A recent prospect: the inactivity rule alone would never take them.
    contact = person(
        "bea.erased@example.org", now=now, relationship="prospect", created_days_ago=20
    )
    held = invoice(contact, due_on=timezone.localdate(now) - days(10), number="2026-010")

    certificate = erase_subject(contact=contact, requested_by=admin_user, channel="admin")

    contact.refresh_from_db()
    assert (contact.first_name, contact.email, contact.phone) == ("", None, "")
    assert contact.anonymised_at is not None
    assert certificate.retained["crm.invoice"]["rows"] == 1
    assert not may_contact(email="bea.erased@example.org")  # erasure suppresses, retention not
    hold_ended = timezone.make_aware(datetime.combine(held.hold_until + days(1), time(3)))
    assert run_rule(rules[INACTIVE], now=hold_ended - days(1)).acted == 0  # its last day

    run = run_rule(rules[INACTIVE], now=hold_ended)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Invoice.objects.exists()
    assert run.acted == 1


# Killed mid-way, two at once ------------------------------------------------------------------


def quiet_customers(now, count: int) -> list[Contact]:
    people = []
    for n in range(count):
        contact = person(f"quiet{n}@example.org", now=now, active_days_ago=800 + n)
        InteractionFactory(contact=contact)
        ContactSourceFactory(contact=contact)
        people.append(contact)
    return people


def test_a_slow_run_taken_over_as_stale_stops_before_its_next_batch(rules, now, monkeypatch):
    people = quiet_customers(now, 4)
    rule = rules[INACTIVE]
    real = retention.remove_subjects
    taken_over = []

    def successor_starts_after_the_first_batch(contact_ids, **kwargs):
        removed = real(contact_ids, **kwargs)
        if not taken_over:
            # The slow run looks dead: a successor's start marks it interrupted and frees the lock.
            RetentionRun.objects.filter(status="running").update(heartbeat_at=now - days(1))
            taken_over.append(run_rule(rule, dry_run=True, now=now))
        return removed

    monkeypatch.setattr(retention, "remove_subjects", successor_starts_after_the_first_batch)
    with pytest.raises(retention.RetentionSuperseded):
        run_rule(rule, now=now, batch_size=2)
    monkeypatch.undo()

    slow = RetentionRun.objects.get(dry_run=False)
    assert (slow.status, slow.acted, slow.batches) == ("interrupted", 2, 1)
    assert set(Contact.objects.values_list("pk", flat=True)) == {p.pk for p in people[2:]}
    assert run_rule(rule, now=now).acted == 2
    assert not Contact.objects.exists()


def test_a_run_killed_mid_way_is_marked_failed_and_a_rerun_reaches_the_same_end(
    rules, now, monkeypatch, admin_user
):
    people = quiet_customers(now, 5)
    held = people[3]
    invoice(held, due_on=timezone.localdate(now) - days(30), number="HOLD-1")
    Contact.objects.filter(pk=held.pk).update(last_activity_at=now - days(800))
    restrict(people[4], admin_user)
    person("still.active@example.net", now=now, active_days_ago=5)
    rule = rules[INACTIVE]
    with transaction.atomic():
        uninterrupted = run_rule(rule, now=now, batch_size=2)
        end_state = data_rows()
        transaction.set_rollback(True)
    assert (uninterrupted.acted, uninterrupted.held, uninterrupted.skipped_restricted) == (4, 1, 1)

    real = retention.remove_subjects
    calls = []

    def killed_on_the_second_batch(contact_ids, **kwargs):
        calls.append(contact_ids)
        if len(calls) == 2:
            raise ConnectionError("worker lost")
        return real(contact_ids, **kwargs)

    monkeypatch.setattr(retention, "remove_subjects", killed_on_the_second_batch)
    with pytest.raises(ConnectionError):
        run_rule(rule, now=now, batch_size=2)
    monkeypatch.undo()

    failed = RetentionRun.objects.get(dry_run=False)
    assert (failed.status, failed.acted, failed.batches, failed.error) == (
        "failed",
        2,
        1,
        "ConnectionError",
    )
    assert failed.receipt == {"crm.contact": 2, "crm.interaction": 2, "crm.contactsource": 2}
    assert failed.finished_at is not None
    first_batch = [people[0].pk, people[1].pk]
    assert calls[0] == first_batch
    assert not Contact.objects.filter(pk__in=first_batch).exists()
    assert Contact.objects.filter(pk=people[2].pk).exists()  # the second batch rolled back

    rerun = run_rule(rule, now=now, batch_size=2)

    assert rerun.status == "completed"
    assert data_rows() == end_state
    assert failed.acted + rerun.acted == uninterrupted.acted


def test_while_a_run_acts_a_second_one_stops_and_changes_nothing(rules, now):
    quiet_customers(now, 2)
    RetentionRun.objects.create(rule=rules["invoices"], cutoff=now, lock=True)
    before = data_rows()

    with pytest.raises(RetentionBusy):
        run_rule(rules[INACTIVE], now=now)

    assert data_rows() == before
    assert RetentionRun.objects.count() == 1
    # Counting is not acting: a dry run still answers.
    assert run_rule(rules[INACTIVE], now=now, dry_run=True).selected == 2


def test_a_run_silent_for_30_minutes_is_taken_over(rules, now):
    quiet_customers(now, 2)
    quiet = RetentionRun.objects.create(rule=rules[INACTIVE], cutoff=now, lock=True)
    RetentionRun.objects.filter(pk=quiet.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=29)
    )
    with pytest.raises(RetentionBusy):
        run_rule(rules[INACTIVE], now=now)

    RetentionRun.objects.filter(pk=quiet.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=31)
    )
    run = run_rule(rules[INACTIVE], now=now)

    quiet.refresh_from_db()
    assert (quiet.status, quiet.lock) == ("interrupted", None)
    assert (run.status, run.acted) == ("completed", 2)
    assert not Contact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_postgresql_only_one_acts(rules, now, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite lets one writer in at a time, so two runs never overlap"
        )
    people = quiet_customers(now, 4)
    in_first_batch, carry_on = threading.Event(), threading.Event()
    real = retention.remove_subjects

    def slow(contact_ids, **kwargs):
        outcome = real(contact_ids, **kwargs)
        in_first_batch.set()
        assert carry_on.wait(20)
        return outcome

    monkeypatch.setattr(retention, "remove_subjects", slow)
    first: dict[str, object] = {}

    def first_run():
        try:
            first["run"] = run_rule(rules[INACTIVE], now=now, batch_size=2)
        except Exception as exc:  # reported to the main thread below
            first["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=first_run)
    worker.start()
    try:
        assert in_first_batch.wait(20), first
        with pytest.raises(RetentionBusy):
            run_rule(rules[INACTIVE], now=now, batch_size=2)
        assert Contact.objects.count() == 4  # the first run's batch is not committed yet
    finally:
        carry_on.set()
        worker.join(30)
    assert "error" not in first, first
    assert not Contact.objects.filter(pk__in=[p.pk for p in people]).exists()
    (run,) = RetentionRun.objects.all()
    assert (run.status, run.acted, run.lock) == ("completed", 4, None)


# Dry run and preview ----------------------------------------------------------------------------


def due_everywhere(now, officer) -> None:
    """Give every default rule rows due now, rows due within 30 days, and rows kept."""
    person("due.customer@example.org", now=now, active_days_ago=740, first_name="Wim")
    person("soon.customer@example.org", now=now, active_days_ago=720, first_name="Lies")
    person("later.customer@example.org", now=now, active_days_ago=600)
    restricted = person("restricted.customer@example.org", now=now, active_days_ago=900)
    restrict(restricted, officer)
    Contact.objects.filter(pk=restricted.pk).update(last_activity_at=now - days(900))
    for n, days_ago in enumerate((400, 350, 100)):
        message = receive_contact_message(
            name="Mira Smit", email=f"mira{n}@example.net", message=f"Question {n}"
        )
        Interaction.objects.filter(pk=message.pk).update(occurred_at=now - days(days_ago))
    for days_ago in (100, 70):
        message = receive_contact_message(
            name="Joost Smit", email=f"joost{days_ago}@example.net", message="Answered"
        )
        mark_answered(interaction=message, actor=officer)
        Interaction.objects.filter(pk=message.pk).update(answered_at=now - days(days_ago))
    SubjectRequestFactory(status="unverified", received_at=now - days(8), verified_at=None)
    SubjectRequestFactory(status="completed", completed_at=now - days(1100))
    owner = ContactFactory(email="billing.owner@example.org")
    export = export_subject(contact=owner, requested_by=None, channel="task")
    SubjectExport.objects.filter(pk=export.pk).update(expires_at=now - days(1))
    invoice(owner, due_on=timezone.localdate(now - days(1100)), number="OLD-1")
    invoice(owner, due_on=timezone.localdate(now - days(1080)), number="SOON-1")


def test_a_dry_run_changes_nothing_and_counts_what_the_real_run_then_removes(
    rules, now, admin_user
):
    due_everywhere(now, admin_user)
    before = data_rows()

    dry = {kind: run_rule(rule, now=now, dry_run=True) for kind, rule in rules.items()}

    assert data_rows() == before
    assert {kind: run.selected for kind, run in dry.items()} == {
        INACTIVE: 1,
        "contact_form_answered": 1,
        "contact_form_unanswered": 1,
        "unverified_requests": 1,
        "completed_requests": 1,
        "expired_exports": 1,
        "invoices": 1,
    }
    assert all(run.acted == 0 and run.dry_run and run.status == "completed" for run in dry.values())
    real = {kind: run_rule(rule, now=now) for kind, rule in rules.items()}
    assert {k: r.acted for k, r in real.items()} == {k: r.selected for k, r in dry.items()}
    assert real[INACTIVE].skipped_restricted == dry[INACTIVE].skipped_restricted == 1


def test_the_preview_counts_what_is_due_now_and_what_will_be_due_in_30_days(rules, now, admin_user):
    due_everywhere(now, admin_user)

    counts = {kind: preview(rule, now=now) for kind, rule in rules.items()}

    # "Within 30 days" counts everything due by then: what is due now and what falls due before.
    assert counts[INACTIVE] == {"now": 1, "next_30_days": 2, "restricted": 1}
    assert counts["contact_form_unanswered"] == {"now": 1, "next_30_days": 2, "restricted": 0}
    assert counts["contact_form_answered"] == {"now": 1, "next_30_days": 2, "restricted": 0}
    assert counts["invoices"] == {"now": 1, "next_30_days": 2, "restricted": 0}
    assert RetentionRun.objects.count() == 0


def test_receipts_hold_counts_per_table_never_names_or_addresses(rules, now, admin_user):
    due_everywhere(now, admin_user)
    everyone = list(Contact.objects.values_list("email", "first_name", "last_name", "phone"))
    assert len(everyone) > 5

    for rule in rules.values():
        run_rule(rule, now=now)

    receipts = json.dumps(list(RetentionRun.objects.values()), default=str).lower()
    for identifiers in everyone:
        for value in filter(None, identifiers):
            assert value.lower() not in receipts
    for run in RetentionRun.objects.all():
        assert all(re.fullmatch(r"[a-z]+\.[a-z]+", k) for k in run.receipt)
        assert all(isinstance(v, int) for v in run.receipt.values())


# A rule switched to anonymise ---------------------------------------------------------------


def test_a_rule_switched_to_anonymise_blanks_the_rows_once_and_ends(rules, now, monkeypatch):
    for n in range(3):
        message = receive_contact_message(
            name="Ruud Jong", email=f"ruud{n}@example.org", message=f"Secret {n}"
        )
        Interaction.objects.filter(pk=message.pk).update(occurred_at=now - days(400))
    person("anon.customer@example.org", now=now, active_days_ago=800, first_name="Hanna")
    for kind in ("contact_form_unanswered", INACTIVE):
        RetentionRule.objects.filter(kind=kind).update(action="anonymise")
        rules[kind].refresh_from_db()
    batches = []

    class CountedAnonymise(Anonymise):
        def apply(self, queryset):
            batches.append(queryset.model._meta.label_lower)
            assert len(batches) < 20, "the run never ends"
            return super().apply(queryset)

    monkeypatch.setattr(retention, "Anonymise", CountedAnonymise)

    messages = run_rule(rules["contact_form_unanswered"], now=now, batch_size=2)
    people = run_rule(rules[INACTIVE], now=now, batch_size=2)

    assert (messages.acted, people.acted) == (3, 1)
    assert batches == ["crm.interaction", "crm.interaction", "crm.contact"]
    assert set(Interaction.objects.values_list("subject", "body")) == {("", "")}
    contact = Contact.objects.get(relationship="customer")
    assert (contact.email, contact.first_name) == (None, "")
    assert contact.anonymised_at == now
    again = [run_rule(rules[k], now=now) for k in ("contact_form_unanswered", INACTIVE)]
    assert [run.acted for run in again] == [0, 0]


# The command, the admin and the nightly task -------------------------------------------------


def test_the_command_dry_run_changes_nothing_and_says_what_would_go(rules, now, admin_user):
    due_everywhere(now, admin_user)
    before = data_rows()
    out = StringIO()

    call_command("purge_expired", "--dry-run", stdout=out)

    assert data_rows() == before
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == sorted(rules)
    assert f"{INACTIVE}: would remove 1; skipped (restricted) 1;" in out.getvalue()
    assert "invoices: would remove 1;" in out.getvalue()


def test_the_command_runs_one_rule_when_asked(rules, now, admin_user):
    due_everywhere(now, admin_user)
    out = StringIO()

    call_command("purge_expired", "--rule", "invoices", stdout=out)

    assert out.getvalue().splitlines() == [
        "invoices: removed 1; skipped (restricted) 0; anonymised under legal hold 0; "
        "receipt {'crm.invoice': 1}"
    ]
    assert list(Invoice.objects.values_list("number", flat=True)) == ["SOON-1"]
    assert Contact.objects.filter(email="due.customer@example.org").exists()


def test_the_command_lists_the_rules_with_what_is_due(rules, now, admin_user):
    due_everywhere(now, admin_user)
    out = StringIO()

    call_command("purge_expired", "--list", stdout=out)

    listed = {line.split(":")[0]: line for line in out.getvalue().splitlines()}
    assert set(listed) >= set(rules)
    assert listed[INACTIVE].startswith(f"{INACTIVE}: 730 days, delete, active;")
    assert "Due now 1, within 30 days 2, restricted 1." in listed[INACTIVE]
    assert RetentionRun.objects.count() == 0


def test_the_command_refuses_an_unknown_rule_and_changes_nothing(rules, now, admin_user):
    due_everywhere(now, admin_user)
    before = data_rows()

    with pytest.raises(CommandError, match="No retention rule 'everything'"):
        call_command("purge_expired", "--rule", "everything")

    assert data_rows() == before
    assert RetentionRun.objects.count() == 0


def test_a_failing_rule_does_not_hold_back_the_others_and_the_command_says_which(rules, now):
    quiet_customers(now, 2)
    # An unknown kind (privacy_check flags it) fails when run; ordered first, it used to stop all.
    RetentionRule.objects.create(kind="aaa_unknown", period_days=1, action="delete")

    with pytest.raises(CommandError, match="Retention rules failed: aaa_unknown; the other rules"):
        call_command("purge_expired")

    assert Contact.objects.count() == 0
    failed = RetentionRun.objects.get(rule__kind="aaa_unknown")
    assert failed.status == RetentionRun.Status.FAILED
    assert RetentionRun.objects.get(rule__kind=INACTIVE).status == RetentionRun.Status.COMPLETED


def test_the_command_stops_when_another_run_acts(rules, now):
    quiet_customers(now, 1)
    RetentionRun.objects.create(rule=rules["invoices"], cutoff=now, lock=True)

    with pytest.raises(CommandError, match="Another retention run is acting"):
        call_command("purge_expired")

    assert Contact.objects.count() == 1


class _Cells(HTMLParser):
    """Collect the admin change list's rows as {column: text}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._column: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append({})
        elif tag in ("td", "th") and self.rows:
            classes = (dict(attrs).get("class") or "").split()
            fields = [c.removeprefix("field-") for c in classes if c.startswith("field-")]
            self._column = fields[0] if fields else None
            if self._column:
                self.rows[-1][self._column] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._column = None

    def handle_data(self, data):
        if self._column:
            self.rows[-1][self._column] += data.strip()


def change_list(page) -> dict[str, dict[str, str]]:
    parser = _Cells()
    parser.feed(page.text)
    return {row["kind"]: row for row in parser.rows if "kind" in row}


def shown_messages(page) -> list[str]:
    block = re.search(r'<ul class="messagelist">(.*?)</ul>', page.text, re.S)
    return [m.strip() for m in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


RULES_URL = reverse("admin:privacy_retentionrule_changelist")


def test_the_rules_page_shows_per_rule_what_is_due_now_and_within_30_days(
    rules, now, admin_user, admin_client
):
    due_everywhere(now, admin_user)

    page = admin_client.get(RULES_URL)

    shown = change_list(page)
    assert set(shown) >= set(rules)
    assert shown[INACTIVE]["due_now"] == "1"
    assert shown[INACTIVE]["due_within_30_days"] == "2"
    assert shown[INACTIVE]["skipped_restricted"] == "1"
    assert shown[INACTIVE]["data_category"] == "contact_identity"
    assert shown["invoices"]["due_now"] == "1"
    assert shown["completed_requests"]["due_now"] == "1"


def test_the_dry_run_action_reports_and_changes_nothing(rules, now, admin_user, admin_client):
    due_everywhere(now, admin_user)
    before = data_rows()

    page = admin_client.post(
        RULES_URL,
        {"action": "dry_run", "_selected_action": [rules[INACTIVE].pk, rules["invoices"].pk]},
        follow=True,
    )

    assert page.status_code == 200
    assert sorted(shown_messages(page)) == [
        # The admin capitalises its messages.
        "Inactive_customers_subscribers: would remove 1; 1 skipped because their processing "
        "is restricted.",
        "Invoices: would remove 1; 0 skipped because their processing is restricted.",
    ]
    after = data_rows()
    # Only the audit trail grows: one event per dry run, by whom, with its counts.
    assert after.pop("privacy_auditevent") != before.pop("privacy_auditevent")
    assert after == before
    assert set(RetentionRun.objects.values_list("dry_run", flat=True)) == {True}
    dry_runs = AuditEvent.objects.filter(
        object_type=ContentType.objects.get_for_model(RetentionRule), actor=admin_user
    )
    assert sorted(e.details["selected"] for e in dry_runs) == [1, 1]


def test_the_run_now_action_removes_and_reports(rules, now, admin_user, admin_client):
    due_everywhere(now, admin_user)
    chosen = {"action": "run_now", "_selected_action": [rules[INACTIVE].pk]}

    confirm = admin_client.post(RULES_URL, chosen)
    assert "Nothing is removed until you confirm" in confirm.text
    assert Contact.objects.filter(email="due.customer@example.org").exists()
    page = admin_client.post(RULES_URL, {**chosen, "confirmed": "yes"}, follow=True)

    audited = AuditEvent.objects.filter(
        object_type=ContentType.objects.get_for_model(RetentionRule),
        object_id=str(rules[INACTIVE].pk),
        actor=admin_user,
    )
    assert sorted(audited.values_list("action", flat=True)) == ["deleted", "viewed"]
    assert shown_messages(page) == [
        "Inactive_customers_subscribers: removed 1, anonymised under legal hold 0, "
        "skipped (restricted) 1."
    ]
    assert not Contact.objects.filter(email="due.customer@example.org").exists()
    assert Contact.objects.filter(email="soon.customer@example.org").exists()


def test_the_run_now_action_warns_when_another_run_acts(rules, now, admin_client):
    quiet_customers(now, 1)
    RetentionRun.objects.create(rule=rules["invoices"], cutoff=now, lock=True)

    page = admin_client.post(
        RULES_URL,
        {"action": "run_now", "_selected_action": [rules[INACTIVE].pk], "confirmed": "yes"},
        follow=True,
    )

    assert shown_messages(page) == ["Another retention run is acting; try again when it ends."]
    assert Contact.objects.count() == 1


def test_the_run_history_is_read_only_and_lists_runs_in_constant_queries(rules, now, admin_client):
    quiet_customers(now, 1)
    run = run_rule(rules[INACTIVE], now=now)
    list_url = reverse("admin:privacy_retentionrun_changelist")
    change_url = reverse("admin:privacy_retentionrun_change", args=[run.pk])

    assert admin_client.get(reverse("admin:privacy_retentionrun_add")).status_code == 403
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert admin_client.post(change_url, {"acted": "0"}).status_code == 403
    delete_url = reverse("admin:privacy_retentionrun_delete", args=[run.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    run.refresh_from_db()
    assert run.acted == 1

    with CaptureQueriesContext(connection) as few:
        admin_client.get(list_url)
    for kind in ("invoices", "expired_exports", "completed_requests"):
        run_rule(rules[kind], now=now, dry_run=True)
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(list_url)
    assert page.text.count('class="field-status"') == 4
    assert len(many) == len(few)


def test_the_nightly_task_returns_what_each_active_rule_removed(rules, now, admin_user):
    due_everywhere(now, admin_user)
    RetentionRule.objects.filter(kind="invoices").update(is_active=False)

    removed = tasks.purge_expired()

    assert removed == {kind: 1 for kind in rules if kind != "invoices"}
    assert Invoice.objects.count() == 2


def test_the_nightly_task_stops_quietly_when_another_run_acts(rules, now):
    quiet_customers(now, 1)
    RetentionRun.objects.create(rule=rules["invoices"], cutoff=now, lock=True)

    assert tasks.purge_expired() == {}
    assert Contact.objects.count() == 1


# What counts as activity --------------------------------------------------------------------


def last_activity(contact: Contact):
    return Contact.objects.values_list("last_activity_at", flat=True).get(pk=contact.pk)


def test_a_staff_edit_in_the_admin_is_not_the_persons_activity(now, admin_client):
    contact = person("edited.by.staff@example.org", now=now, active_days_ago=700)
    url = reverse("admin:crm_contact_change", args=[contact.pk])
    data = form_data(admin_client.get(url))
    data["job_title"] = ["Head of purchasing"]

    assert admin_client.post(url, data).status_code == 302

    contact.refresh_from_db()
    assert contact.job_title == "Head of purchasing"
    assert contact.last_activity_at == now - days(700)


def test_an_api_update_of_a_contact_is_not_the_persons_activity(now, admin_user):
    contact = person("updated.by.api@example.org", now=now, active_days_ago=700)
    api = APIClient()
    api.force_authenticate(user=admin_user)

    response = api.patch(f"/api/v1/contacts/{contact.pk}/", {"job_title": "Buyer"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["job_title"] == "Buyer"
    assert last_activity(contact) == now - days(700)


def test_a_contact_form_message_is_the_persons_activity_only_once_confirmed(
    now, client, admin_user
):
    contact = person("writes.to.us@example.org", now=now, active_days_ago=700)

    response = client.post(
        "/contact/",
        {"name": "Iris Wit", "email": contact.email, "message": "Do you ship to Lille?"},
    )

    assert response.status_code == 200
    assert last_activity(contact) == now - days(700)
    confirm_sender(interaction=contact.interactions.get(), actor=admin_user)
    assert last_activity(contact) >= now


def test_a_confirmed_subscription_is_the_persons_activity(now, client, newsletter, notice):
    contact = person(
        "subscribes.again@example.org", now=now, relationship="subscriber", active_days_ago=700
    )
    client.post("/subscribe/", {"email": contact.email, "purposes": [newsletter.code]})
    assert last_activity(contact) == now - days(700)  # asking is not yet the person's act
    mail_confirmations()

    assert client.post(link_in(mail.outbox[-1].body)).status_code == 200

    assert last_activity(contact) >= now


def test_the_audit_trail_is_kept_two_years_and_then_removed(now, admin_user):
    rule, _ = RetentionRule.objects.update_or_create(
        kind="audit_events", defaults={"period_days": 730, "action": "delete", "is_active": True}
    )
    old = AuditEvent.objects.create(action="viewed", channel="admin", actor=admin_user)
    young = AuditEvent.objects.create(action="viewed", channel="admin", actor=admin_user)
    AuditEvent.objects.filter(pk=old.pk).update(at=now - days(731))
    AuditEvent.objects.filter(pk=young.pk).update(at=now - days(729))

    run = retention.run_rule(rule, now=now)

    assert run.acted == 1
    assert run.receipt == {"core.auditevent": 1}
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=young.pk).exists()
    assert retention.category(rule) == "audit_trail"


def test_the_audit_trail_cannot_be_anonymised_by_a_rule(now):
    rule, _ = RetentionRule.objects.update_or_create(
        kind="audit_events", defaults={"period_days": 730, "action": "anonymise"}
    )
    with pytest.raises(ValueError, match="use Delete"):
        retention.run_rule(rule, now=now)
