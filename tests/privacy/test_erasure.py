"""Erasure: every declared row of one person goes, the neighbour stays, and the address stays out.

The world built here fills every model the registry declares, for the subject and for a
neighbour. Both were erased once before and came back by double opt-in, which is how an earlier
erasure certificate and a lifted suppression exist for a living contact. The checks that nothing
of the subject is left read every table of the database directly, independently of the scan the
erasure certifies itself with.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Message, MessageEvent, Segment, WebVisit
from core.models import AuditEvent, OutboundEvent
from core.registry import Retain, registry
from crm.contacts import create_contact, update_contact
from crm.imports.batches import Attestation, create_batch, run_batch
from crm.invoices import hold_end, record_invoice
from crm.models import Client, Contact, ContactList, Source, Suppression, Tag
from crm.suppression import email_hash, may_contact, suppress
from integrations.models import Delivery, RecipientNotice, WebhookEndpoint
from privacy.accountability.recipients import record_disclosure
from privacy.consent.ledger import RequestMetadata, consent_states
from privacy.consent.subscriptions import confirm_subscription, request_subscription
from privacy.deletion.erasure import erase_subject
from privacy.links import status_url
from privacy.models import (
    Breach,
    BreachSubject,
    Disclosure,
    ErasureCertificate,
    NoticeDelivery,
    Processor,
    SubjectRequest,
)
from privacy.requests.exports import export_subject
from privacy.requests.subject_requests import (
    act_on_request,
    complete_request,
    log_staff_request,
)
from tests.crm.factories import ContactSourceFactory, InteractionFactory
from tests.orphans import contact_links, orphaned_rows, rows_linked_to
from tests.privacy.factories import ClientFactory, ContactFactory, grant, withdraw
from tests.privacy.pages import heading, link_in, site_path
from tests.privacy.request_steps import (
    form_data,
    isolate,
    mails_to,
    submit_and_verify,
)
from tests.privacy.subscription_steps import mail_confirmations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str
    phone: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def traces(self) -> tuple[str, ...]:
        """What must not be found anywhere once the person is erased."""
        return (self.email, self.phone, self.name.lower())


SUBJECT = Person("Marieke", "Verhoeven", "marieke.verhoeven@example.org", "+31612345678")
NEIGHBOUR = Person("Joris", "Bakker", "joris.bakker@example.net", "+31687654321")


def came_back_after_an_earlier_erasure(person: Person, newsletter) -> Contact:
    """Erase the person once, then let them subscribe again through the double opt-in."""
    erase_subject(contact=ContactFactory(email=person.email), requested_by=None, channel="command")
    request_subscription(
        email=person.email, name=person.name, purpose_codes=[newsletter.code], language="nl"
    )
    mail_confirmations()
    token = link_in(mail.outbox[-1].body).rstrip("/").rsplit("/", 1)[-1]
    confirmation = confirm_subscription(
        token=token, metadata=RequestMetadata(user_agent="Firefox/140.0")
    )
    mail.outbox.clear()
    return confirmation.contact


def fill_every_declared_model(person: Person, *, newsletter, offers, notice, acme, staff):
    """Give the person a row in every model the registry declares; return their contact."""
    contact = came_back_after_an_earlier_erasure(person, newsletter)
    update_contact(
        contact=contact,
        actor=staff,
        channel="admin",
        phone=person.phone,
        job_title="Buyer",
        birth_date="1980-05-17",
    )
    ContactSourceFactory(contact=contact, reference=f"https://www.example.org/fair#{person.last}")
    contact.tags.add(Tag.objects.get_or_create(name="Trade fair")[0])
    ContactList.objects.get_or_create(name="Fair visitors")[0].contacts.add(contact)
    InteractionFactory(
        contact=contact,
        subject=f"Call with {person.name}",
        body=f"{person.name} asked to be called on {person.phone} or mailed at {person.email}.",
        staff=staff,
    )
    grant(contact, offers)
    withdraw(contact, offers)
    NoticeDelivery.objects.create(notice=notice, contact=contact, sent_at=timezone.now())
    letter = log_staff_request(
        kind=SubjectRequest.Kind.ACCESS,
        email=person.email,
        channel=SubjectRequest.Channel.POST,
        received_at=timezone.now(),
        identity_check=f"Signed by {person.name}; matches the contract.",
        details=f"I, {person.name}, want a copy. Call {person.phone}.",
        letter=_letter(person),
        actor=staff,
    )
    complete_request(request=letter, actor=staff, result="We sent you a copy by post.")
    export_subject(contact=contact, requested_by=staff, channel="admin")
    LogEntry.objects.log_actions(
        staff.pk,
        Contact.objects.filter(pk=contact.pk),
        CHANGE,
        change_message=f"Changed phone to {person.phone}.",
    )
    suppress(email=person.email, reason=Suppression.Reason.UNSUBSCRIBE, client=acme)
    today = timezone.localdate()
    for number, due_on in (("1", today - timedelta(days=800)), ("2", today + timedelta(days=10))):
        record_invoice(
            contact=contact,
            number=f"2026-{contact.pk}-{number}",
            issued_on=due_on - timedelta(days=30),
            due_on=due_on,
            amount=Decimal("120.00"),
            currency="eur",
            actor=staff,
            channel="api",
        )
    Disclosure.objects.create(
        authority="Tax authority",
        legal_ground="Tax administration act, art. 53",
        reference=f"TAX-{contact.pk}",
        disclosed_on=today,
        contact=contact,
        data_given="Invoices of 2025 (numbers, dates, amounts).",
        handled_by=staff,
    )
    breach = Breach.objects.create(
        title=f"Laptop lost {contact.pk}",
        detected_at=timezone.now(),
        description="A laptop with an export was lost on a train.",
        data_categories="Names and e-mail addresses.",
    )
    BreachSubject.objects.create(breach=breach, contact=contact, notified_at=timezone.now())
    campaign = Campaign.objects.create(
        name="Spring offers",
        purpose=offers,
        segment=Segment.objects.create(name=f"Everyone {contact.pk}"),
        subject="Spring offers",
        html_body="<p>Hello</p>",
        text_body="Hello",
    )
    message = Message.objects.create(campaign=campaign, contact=contact, token=f"t{contact.pk}")
    MessageEvent.objects.create(
        message=message,
        campaign=campaign,
        kind=MessageEvent.Kind.OPENED,
        country="NL",
        occurred_at=timezone.now(),
    )
    WebVisit.objects.create(
        contact=contact,
        campaign=campaign,
        kind=WebVisit.Kind.PAGE_VIEW,
        host="www.example.org",
        path=f"/people/{person.last}/",
        title=f"About {person.name}",
        occurred_at=timezone.now(),
    )
    # A client's list named the person twice: the second row is in the import's report.
    twice = f"E-mail,Name\r\n{person.email},{person.name}\r\n{person.email},{person.name}\r\n"
    batch = create_batch(
        upload=ContentFile(twice.encode(), name="fair.csv"),
        file_name="fair.csv",
        client=ClientFactory(),
        source_kind=Source.Kind.CLIENT_LIST,
        list_name=f"Fair {contact.pk}",
        attestation=Attestation("consent", "Ticked the box at the fair.", today),
        mapping={"email": "E-mail"},
        actor=staff,
        channel="admin",
    )
    with TestCase.captureOnCommitCallbacks(execute=True):  # the list's file goes when it ends
        run_batch(batch_id=batch.pk)
    # The shop received the person's data, by a shared list and by a (now switched off) webhook,
    # and was told of a restriction; a change waits to be announced.
    shop = Processor.objects.get_or_create(
        name="Web shop", defaults={"service": "orders", "data_shared": "name", "location": "NL"}
    )[0]
    record_disclosure(
        recipient=shop,
        kind="list",
        description="Name and e-mail",
        people={contact.pk: f"shop-{contact.pk}"},
        actor=staff,
        channel="admin",
    )
    endpoint = WebhookEndpoint.objects.create(
        name=f"Shop {contact.pk}",
        url="https://shop.example.net/hook",
        secret="whsec_AAAA",
        event_kinds=["contact.changed"],
        recipient=shop,
        is_active=False,
    )
    event_id = uuid.uuid4()
    Delivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        kind="contact.changed",
        occurred_at=timezone.now(),
        contact_id=contact.pk,
        payload={"contact": contact.pk},
    )
    RecipientNotice.objects.create(
        recipient=shop,
        event_id=event_id,
        contact_ref=contact.pk,
        change="contact.restricted",
        reference=f"shop-{contact.pk}",
        method="email",
    )
    assert OutboundEvent.objects.filter(contact_id=contact.pk).exists()
    for declaration in registry:
        assert declaration.rows_for(contact_ids=[contact.pk]).exists(), declaration.label
    return contact


def _letter(person: Person) -> SimpleUploadedFile:
    return SimpleUploadedFile("letter.pdf", f"%PDF {person.name}".encode(), "application/pdf")


def all_tables() -> dict[str, list[tuple]]:
    """Read every row of every table of the database, whatever the registry says."""
    dump = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {name}")  # noqa: S608 - our own table names
            dump[table] = cursor.fetchall()
    return dump


def every_row() -> dict[str, list[str]]:
    """Return every row of every table, comparable before and after."""
    return {table: sorted(map(repr, rows)) for table, rows in all_tables().items()}


def tables_holding(traces: tuple[str, ...]) -> dict[str, list[str]]:
    """Map each table to the traces any of its cells still holds."""
    found = {}
    for table, rows in all_tables().items():
        cells = [str(cell).lower() for row in rows for cell in row]
        hits = [trace for trace in traces if any(trace.lower() in cell for cell in cells)]
        if hits:
            found[table] = hits
    return found


def text_columns_holding(traces: tuple[str, ...]) -> dict[str, int]:
    """Count, per model, rows whose char, text or e-mail fields hold a trace (through the ORM)."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.FileField)
        ]
        condition = models.Q()
        for name in names:
            for trace in traces:
                condition |= models.Q(**{f"{name}__icontains": trace})
        if names:
            count = model._base_manager.filter(condition).count()
            if count:
                found[model._meta.label] = count
    return found


def neighbour_rows(contact: Contact) -> dict[str, list[dict]]:
    """Every declared row of the contact, with every column."""
    return {
        declaration.label: list(
            declaration.rows_for(contact_ids=[contact.pk]).order_by("pk").values()
        )
        for declaration in registry
    }


def stored_files() -> set[str]:
    folder = Path(django_settings.PRIVATE_FILES_DIR)
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


@dataclass
class World:
    subject: Contact
    neighbour: Contact
    erasure: SubjectRequest
    acme: Client
    subject_files: set[str]
    neighbour_files: set[str]
    neighbour_before: dict[str, list[dict]]


@pytest.fixture
def world(client, admin_user, newsletter, offers, notice) -> World:
    acme = ClientFactory(name="Acme Tiles")
    filled = {"newsletter": newsletter, "offers": offers, "notice": notice, "acme": acme}
    neighbour = fill_every_declared_model(NEIGHBOUR, staff=admin_user, **filled)
    neighbour_files = stored_files()
    subject = fill_every_declared_model(SUBJECT, staff=admin_user, **filled)
    subject_files = stored_files() - neighbour_files
    erasure = submit_and_verify(client, "erasure", " Marieke.Verhoeven@example.org")
    act_on_request(request_id=erasure.pk)  # erasure waits for the officer
    assert Contact.objects.filter(pk=subject.pk).exists()
    assert {Path(name).parts[0] for name in subject_files} == {"exports", "requests"}
    return World(
        subject=subject,
        neighbour=neighbour,
        erasure=erasure,
        acme=acme,
        subject_files=subject_files,
        neighbour_files=neighbour_files,
        neighbour_before=neighbour_rows(neighbour),
    )


@pytest.fixture
def erased(world, admin_client, django_capture_on_commit_callbacks) -> ErasureCertificate:
    """The officer approves the erasure; the transaction commits, then its files go."""
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:privacy_subjectrequest_decide", args=[world.erasure.pk]),
            {"decision": "approve_erasure", "text": ""},
        )
    assert response.status_code == 302
    return ErasureCertificate.objects.get(request=world.erasure)


def test_no_row_is_left_pointing_at_the_erased_contact_in_tables_without_a_constraint(
    world, request
):
    linked_before = rows_linked_to(world.subject.pk)

    request.getfixturevalue("erased")

    assert set(linked_before) == contact_links()
    assert orphaned_rows() == {}


def test_the_certificate_finds_nothing_and_lists_every_checked_table(world, erased):
    assert erased.rows_found == 0
    text_fields = (models.CharField, models.TextField)
    checked = {
        d.label
        for d in registry
        if not isinstance(d.erasure, Retain)
        and any(isinstance(d.model._meta.get_field(name), text_fields) for name in d.fields)
    }
    assert set(erased.scan) == checked
    assert {"crm.contact", "crm.interaction", "privacy.subjectrequest"} <= checked
    assert set(erased.scan.values()) == {0}
    assert erased.contact_ref == world.subject.pk
    assert erased.email_hash == email_hash(SUBJECT.email)
    # The invoice still under its legal hold stays, so the contact row is blanked, not deleted.
    assert set(erased.retained) == {
        "crm.suppression",
        "privacy.erasurecertificate",
        "crm.invoice",
    }
    assert erased.retained["crm.invoice"]["rows"] == 1
    assert erased.removed["crm.invoice"] == 1  # the one whose hold has ended
    assert erased.removed["crm.contact"] == 1
    everyone = Suppression.objects.get(
        email_hash=email_hash(SUBJECT.email), client=None, lifted_at=None
    )
    assert everyone.reason == Suppression.Reason.ERASURE
    assert erased.removed["privacy.subjectrequest"] == 2  # the letter and this one, anonymised
    assert erased.removed["privacy.consentevent"] == 3
    for trace in SUBJECT.traces():
        assert trace not in json.dumps([erased.removed, erased.retained, erased.scan]).lower()


def test_no_table_holds_the_subjects_email_phone_or_name(world, erased):
    connection.check_constraints()  # what the commit checks: no row points at a removed one

    assert tables_holding(SUBJECT.traces()) == {}
    assert text_columns_holding(SUBJECT.traces()) == {}
    held = Contact.objects.get(pk=world.subject.pk)
    assert held.anonymised_at is not None
    assert (held.email, held.first_name, held.last_name, held.phone, held.birth_date) == (
        None,
        "",
        "",
        "",
        None,
    )
    assert list(held.invoices.values_list("hold_until", flat=True)) == [
        hold_end(timezone.localdate() + timedelta(days=10))
    ]
    # The control: the same checks see the neighbour everywhere they were put.
    assert "crm_contact" in tables_holding(NEIGHBOUR.traces())
    assert {"crm.Contact", "crm.Interaction", "admin.LogEntry", "privacy.SubjectRequest"} <= set(
        text_columns_holding(NEIGHBOUR.traces())
    )


def test_the_requests_are_kept_for_accountability_without_the_address(world, erased):
    erasure = SubjectRequest.objects.get(pk=world.erasure.pk)

    assert erasure.status == SubjectRequest.Status.COMPLETED
    assert (erasure.email, erasure.contact, erasure.details) == ("", None, "")
    assert erasure.email_hash == email_hash(SUBJECT.email)
    letter = SubjectRequest.objects.get(channel="post", email_hash=email_hash(SUBJECT.email))
    assert (letter.email, letter.identity_check, letter.letter.name) == ("", "", "")


def test_the_neighbour_is_untouched(world, erased):
    assert neighbour_rows(world.neighbour) == world.neighbour_before
    assert consent_states(world.neighbour)
    assert may_contact(email=NEIGHBOUR.email)


def test_the_subjects_files_go_after_commit_and_the_neighbours_stay(world, erased):
    remaining = stored_files()

    assert not remaining & world.subject_files
    assert world.neighbour_files <= remaining


def test_the_requester_is_told_the_certificates_summary(world, erased):
    answer = mails_to(SUBJECT.email)[-1]

    # She subscribed in Dutch: the whole answer is in Dutch, though her contact is gone.
    assert answer.body.startswith("Goedendag,")
    assert "Uw gegevens zijn gewist" in answer.body
    assert f"{sum(erased.removed.values())} records verwijderd. Wij bewaren" in answer.body
    assert "Bewaard omdat de wet dat vereist" in answer.body


def test_the_address_cannot_be_added_again_by_code_api_or_admin(
    world, erased, admin_client, staff_token
):
    before = Contact.objects.count()

    with pytest.raises(ValidationError) as refused:
        create_contact(actor=None, channel="import", email=SUBJECT.email, first_name="M")
    assert refused.value.error_dict["email"][0].code == "suppressed"

    api = admin_client.post(
        "/api/v1/contacts/",
        {
            "email": " MARIEKE.verhoeven@example.org",
            "first_name": "Marieke",
            "source": {"kind": "business_directory", "name": "Kompass NL"},
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {staff_token}",
    )
    assert api.status_code == 400
    assert "opted out" in api.json()["email"][0]

    add_url = reverse("admin:crm_contact_add")
    data = form_data(admin_client.get(add_url))
    data.update(email=[SUBJECT.email], first_name=["Marieke"], last_name=["Verhoeven"])
    page = admin_client.post(add_url, data)
    assert page.status_code == 200
    assert "opted out" in str(page.context["adminform"].form.errors["email"])

    assert Contact.objects.count() == before


def test_only_the_double_opt_in_brings_the_address_back(world, erased, client, newsletter):
    assert client.post("/subscribe/", {"email": SUBJECT.email, "purposes": [newsletter.code]})
    mail_confirmations()
    assert not Contact.objects.filter(email=SUBJECT.email).exists()
    assert not may_contact(email=SUBJECT.email)

    path = link_in(mails_to(SUBJECT.email)[-1].body)
    assert client.post(path).status_code == 200

    back = Contact.objects.get(email=SUBJECT.email)
    assert consent_states(back) == {newsletter.code: "grant"}
    assert may_contact(email=SUBJECT.email)
    lifted = Suppression.objects.filter(
        email_hash=email_hash(SUBJECT.email), reason=Suppression.Reason.ERASURE
    ).latest("pk")
    assert lifted.lifted_at is not None
    assert "double opt-in" in lifted.lift_reason
    # The client's own suppression outlives the comeback.
    assert not may_contact(email=SUBJECT.email, client=world.acme)


def test_erasing_again_from_the_command_prints_the_same_certificate_and_changes_nothing(
    world, erased, capsys
):
    before = every_row()

    call_command("erase_subject", " Marieke.Verhoeven@EXAMPLE.org")

    printed = json.loads(capsys.readouterr().out)
    assert printed["certificate"] == erased.pk
    assert printed["rows_found"] == 0
    assert every_row() == before


def test_the_erase_command_erases_a_known_address_like_the_officer(
    world, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_subject", SUBJECT.email)

    printed = json.loads(capsys.readouterr().out)
    certificate = ErasureCertificate.objects.get(pk=printed["certificate"])
    assert certificate.rows_found == 0
    assert tables_holding(SUBJECT.traces()) == {}
    assert neighbour_rows(world.neighbour) == world.neighbour_before
    assert not may_contact(email=SUBJECT.email)
    assert AuditEvent.objects.filter(
        action="erased", channel="command", object_id=str(certificate.pk)
    ).exists()


@pytest.mark.parametrize(
    ("address", "message"),
    [("not an address", "not a valid e-mail address"), ("never.seen@example.net", "none was")],
)
def test_the_erase_command_refuses_an_invalid_or_unknown_address_and_changes_nothing(
    address, message, world
):
    before = every_row()

    with pytest.raises(CommandError, match=message):
        call_command("erase_subject", address)

    assert every_row() == before


def test_an_erasure_request_for_an_unknown_address_still_suppresses_it(
    client, admin_client, django_capture_on_commit_callbacks
):
    erasure = submit_and_verify(client, "exclusion", "never.added@example.net")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:privacy_subjectrequest_decide", args=[erasure.pk]),
            {"decision": "approve_erasure"},
        )

    erasure.refresh_from_db()
    assert erasure.status == SubjectRequest.Status.COMPLETED
    assert not may_contact(email="never.added@example.net")
    assert "We held no data about this address" in mails_to("never.added@example.net")[-1].body


def test_with_automatic_approval_the_worker_erases_at_once(
    client, settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_AUTO_APPROVE = True
    contact = ContactFactory(email="auto.erased@example.org", first_name="Auto", last_name="Wis")
    InteractionFactory(contact=contact)
    erasure = submit_and_verify(client, "erasure", contact.email)

    with django_capture_on_commit_callbacks(execute=True):
        act_on_request(request_id=erasure.pk)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert ErasureCertificate.objects.get(request=erasure).rows_found == 0
    assert "Your data is erased" in mails_to("auto.erased@example.org")[-1].body
    assert tables_holding(("auto.erased@example.org", "auto wis")) == {}


def test_the_status_page_shows_the_erasure_answer(world, erased, client):
    page = client.get(site_path(status_url(SubjectRequest.objects.get(pk=world.erasure.pk))))

    # The page a personal link opens speaks the requester's language (Dutch here).
    assert heading(page) == f"Uw verzoek #{world.erasure.pk}"
    assert "Uw gegevens zijn gewist" in page.content.decode()


def test_a_contact_without_an_address_is_erased_by_number_and_again_changes_nothing(capsys):
    contact = ContactFactory(email=None, first_name="Ioana", phone="+40212345678")
    InteractionFactory(contact=contact, body="Called Ioana on +40212345678.")

    call_command("erase_subject", "--contact", str(contact.pk))

    first = json.loads(capsys.readouterr().out)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert tables_holding(("Ioana", "+40212345678")) == {}
    before = every_row()
    call_command("erase_subject", "--contact", str(contact.pk))
    assert json.loads(capsys.readouterr().out)["certificate"] == first["certificate"]
    assert every_row() == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--contact", "999999"], "No contact #999999"), ([], "either an e-mail address")],
)
def test_the_erase_command_refuses_an_unknown_number_or_no_subject(arguments, message):
    ContactFactory(email="stays@example.org")
    before = every_row()

    with pytest.raises(CommandError, match=message):
        call_command("erase_subject", *arguments)

    assert every_row() == before
