"""Importing client lists: files, rejections, the merge rule, provenance, re-runs, resumes."""

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from core.models import AuditEvent
from core.registry import registry
from crm.exports_csv import contact_row
from crm.imports.batches import (
    Attestation,
    counts,
    create_batch,
    discard_unfinished,
    resume_batch,
    run_batch,
)
from crm.imports.report import write_report
from crm.models import Company, Contact, ContactSource, ImportBatch, ImportRejection, Source
from crm.provenance import get_source, record_provenance
from crm.suppression import suppress
from privacy.accountability.indirect_notices import contacts_awaiting_notice
from privacy.deletion.erasure import erase_subject
from privacy.deletion.retention import run_rule
from privacy.models import RetentionRule
from tests.crm.factories import ClientFactory, CompanyFactory, ContactFactory
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db

HEADER = ["E-mail", "First name", "Last name", "Phone", "Company", "Website", "Birth date"]
STATEMENT = Attestation(
    legal_basis="consent",
    text="Visitors of the spring fair ticked the box to hear from the client's partners.",
    collected_on=date(2026, 3, 1),
)


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def client_org():
    return ClientFactory(name="Tulip Events")


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([HEADER, *rows])
    return out.getvalue().encode(encoding)


def upload(content: bytes, name: str = "fair.csv", **overrides) -> ImportBatch:
    """Create a batch from the bytes with the usual statement and the guessed mapping."""
    arguments = {
        "client": overrides.pop("client", None),
        "source_kind": Source.Kind.CLIENT_LIST,
        "list_name": "Spring fair",
        "attestation": STATEMENT,
        "actor": None,
        "channel": "test",
        "mapping": {
            "email": "E-mail",
            "first_name": "First name",
            "last_name": "Last name",
            "phone": "Phone",
            "company": "Company",
            "company_domain": "Website",
            "birth_date": "Birth date",
        },
        **overrides,
    }
    return create_batch(upload=ContentFile(content, name=name), file_name=name, **arguments)


def import_rows(rows: list[list[str]], client, **overrides) -> ImportBatch:
    batch = upload(csv_bytes(rows), client=client, **overrides)
    return run_batch(batch_id=batch.pk)


def report_rows(batch: ImportBatch) -> list[list[str]]:
    out = io.StringIO()
    write_report(batch=batch, out=out, actor=None, channel="test")
    return list(csv.reader(io.StringIO(out.getvalue())))


def stage_tables() -> list[str]:
    return [t for t in connection.introspection.table_names() if t.startswith("crm_import_stage")]


# Files ------------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_files_in_each_encoding_and_delimiter_import_the_same_people(
    client_org, encoding, delimiter
):
    name = "Zoë" if encoding != "cp1252" else "Zoë Œuvre"
    rows = [["zoe.muller@example.org", name, "Müller", "", "", "", ""]]
    rows.append(["daan.smit@example.net", "Daan", "Smit, jr.", "", "", "", ""])
    batch = upload(csv_bytes(rows, delimiter=delimiter, encoding=encoding), client=client_org)
    batch = run_batch(batch_id=batch.pk)
    assert batch.delimiter == delimiter
    assert batch.status == ImportBatch.Status.COMPLETED
    assert Contact.objects.get(email="zoe.muller@example.org").first_name == name
    assert Contact.objects.get(email="daan.smit@example.net").last_name == "Smit, jr."


def test_an_xlsx_workbook_imports_numbers_and_dates_as_people_typed_them(tmp_path):
    dutch_client = ClientFactory(name="Tulip Events", country="NL")
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(
        ["femke.bakker@example.org", "Femke", "Bakker", 31201234567, "", "", date(1980, 5, 17)]
    )
    path = tmp_path / "list.xlsx"
    book.save(path)
    batch = upload(path.read_bytes(), name="list.xlsx", client=dutch_client)
    batch = run_batch(batch_id=batch.pk)
    femke = Contact.objects.get(email="femke.bakker@example.org")
    assert batch.file_format == "xlsx"
    assert (femke.phone, femke.birth_date) == ("+31201234567", date(1980, 5, 17))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text (CSV) or Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel (.xls)"),
        (b"E-mail,First name\r\n", "no rows below it"),
        (b"PK\x03\x04 not really a workbook", "not a readable Excel"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message_and_nothing_is_stored(
    client_org, content, message
):
    with pytest.raises(ValidationError) as refused:
        upload(content, client=client_org)
    assert message in " ".join(refused.value.message_dict["file"])
    assert not ImportBatch.objects.exists()
    assert not Source.objects.exists()


def test_a_file_over_the_limit_is_refused_before_anything_is_written(client_org, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100
    content = csv_bytes([[f"person{n}@example.org", "A", "B", "", "", "", ""] for n in range(9)])
    with pytest.raises(ValidationError) as refused:
        upload(content, client=client_org)
    assert "the limit is" in refused.value.message_dict["file"][0]
    assert not ImportBatch.objects.exists()


def test_a_mapping_without_an_email_column_is_refused_before_anything_is_written(client_org):
    content = csv_bytes([["anna@example.org", "Anna", "", "", "", "", ""]])
    with pytest.raises(ValidationError) as refused:
        upload(content, client=client_org, mapping={"first_name": "First name"})
    assert "Map one column to E-mail" in refused.value.message_dict["mapping"][0]
    assert not ImportBatch.objects.exists()
    assert not Contact.objects.exists()


def test_a_client_list_needs_its_client_and_a_public_source_its_name_or_address():
    content = csv_bytes([["anna@example.org", "Anna", "", "", "", "", ""]])
    with pytest.raises(ValidationError) as refused:
        upload(content, client=None)
    assert "client" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        upload(content, source_kind=Source.Kind.BUSINESS_DIRECTORY, list_name="")
    assert "source_url" in refused.value.message_dict


# Rows -------------------------------------------------------------------------------------------


def test_each_rejected_row_is_reported_with_its_reason(client_org):
    other = ClientFactory(name="Other client")
    suppress(email="gone@example.org", reason="unsubscribe")
    suppress(email="not.for.tulip@example.org", reason="objection", client=client_org)
    suppress(email="not.for.other@example.org", reason="objection", client=other)
    child_born = (timezone.localdate() - timedelta(days=365 * 10)).isoformat()
    batch = import_rows(
        [
            ["anna@example.org", "Anna", "Jansen", "", "", "", ""],  # row 2: created
            ["not an address", "Bram", "", "", "", "", ""],  # 3
            ["bram@example.org", "Bram", "", "12", "", "", ""],  # 4
            ["", "Nobody", "", "", "", "", ""],  # 5
            ["kid@example.org", "Kid", "Young", "", "", "", child_born],  # 6
            ["old@example.org", "Old", "", "", "", "", "1980-02-30"],  # 7
            ["GONE@example.org", "Gone", "Away", "", "", "", ""],  # 8
            ["not.for.tulip@example.org", "Nina", "", "", "", "", ""],  # 9
            ["Anna@Example.org", "Anna", "Again", "", "", "", ""],  # 10
            ["not.for.other@example.org", "Olga", "", "", "", "", ""],  # 11: created
        ],
        client_org,
    )
    reasons = dict(ImportRejection.objects.values_list("row_number", "reason"))
    assert reasons == {
        3: "invalid_email",
        4: "invalid_phone",
        5: "missing_field",
        6: "under_16",
        7: "invalid_date",
        8: "suppressed",
        9: "suppressed_client",
        10: "duplicate",
    }
    assert (batch.created, batch.merged, batch.rejected) == (2, 0, 8)
    report = report_rows(batch)
    assert report[0] == ["row", "reason", "message", *HEADER]
    by_row = {row[0]: row for row in report[1:]}
    assert by_row["10"][1:4] == [
        "Duplicate of an earlier row in the file",
        "The same address is on an earlier row of the file.",
        "Anna@Example.org",
    ]
    # Nothing of an opted-out person or a child is kept, not even in the report.
    for row in ("6", "8", "9"):
        assert len(by_row[row]) == 3
    assert not ImportRejection.objects.filter(row_number__in=[6, 8, 9]).exclude(cells=[]).exists()
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "anna@example.org",
        "not.for.other@example.org",
    }


def test_an_address_opted_out_everywhere_and_for_the_client_is_refused_as_opted_out_of_all(
    client_org,
):
    suppress(email="twice@example.org", reason="objection", client=client_org)
    suppress(email="twice@example.org", reason="unsubscribe")
    suppress(email="tulip.only@example.org", reason="objection", client=client_org)
    batch = import_rows(
        [
            ["twice@example.org", "Tom", "", "", "", "", ""],
            ["tulip.only@example.org", "Tina", "", "", "", "", ""],
            ["kept@example.org", "Kees", "", "", "", "", ""],
        ],
        client_org,
    )
    assert batch.rejected_by_reason == {"suppressed": 1, "suppressed_client": 1}
    messages = dict(ImportRejection.objects.values_list("row_number", "message"))
    assert messages == {
        2: "This address opted out of all contact.",
        3: "This address opted out of this client's messages.",
    }
    assert list(Contact.objects.values_list("email", flat=True)) == ["kept@example.org"]


def test_a_suppressed_address_never_comes_back_through_a_list(client_org):
    person = ContactFactory(email="leaving@example.org")
    erase_subject(contact=person, requested_by=None, channel="test")
    batch = import_rows([["Leaving@Example.org", "Back", "Again", "", "", "", ""]], client_org)
    assert batch.rejected_by_reason == {"suppressed": 1}
    assert not Contact.objects.filter(email="leaving@example.org").exists()


def test_an_existing_contact_keeps_every_value_and_only_blank_fields_are_filled(client_org):
    acme = CompanyFactory(name="Acme", domain="acme.example.org")
    kept = ContactFactory(
        email="femke@example.org", first_name="Femke", last_name="", phone="", company=None
    )
    restricted = ContactFactory(
        email="held@example.org", first_name="", last_name="", company=None, is_restricted=True
    )
    batch = import_rows(
        [
            [
                "FEMKE@example.org",
                "Fem",
                "Bakker",
                "+31 20 123 4567",
                "Acme",
                "acme.example.org",
                "",
            ],
            ["held@example.org", "Held", "Back", "", "", "", ""],
        ],
        client_org,
    )
    kept.refresh_from_db()
    restricted.refresh_from_db()
    assert (batch.created, batch.merged) == (0, 2)
    assert (kept.first_name, kept.last_name, kept.phone) == ("Femke", "Bakker", "+31201234567")
    assert kept.company == acme
    assert (restricted.first_name, restricted.last_name) == ("", "")
    # Both got the provenance of the list all the same.
    assert set(
        ContactSource.objects.filter(import_batch=batch).values_list("contact", flat=True)
    ) == {
        kept.pk,
        restricted.pk,
    }


def test_contacts_are_attached_to_companies_by_domain_then_by_name(client_org):
    by_domain = CompanyFactory(name="Polder Logistics BV", domain="polder.example.org")
    by_name = CompanyFactory(name="Maas Advisory", domain="")
    import_rows(
        [
            ["a@example.org", "A", "", "", "Polder", "https://www.polder.example.org/x", ""],
            ["b@example.org", "B", "", "", "Maas Advisory", "", ""],
            ["c@example.org", "C", "", "", "Newco", "newco.example.net", ""],
            ["d@example.org", "D", "", "", "Newco Europe", "newco.example.net", ""],
        ],
        client_org,
    )
    companies = dict(Contact.objects.values_list("email", "company"))
    newco = Company.objects.get(domain="newco.example.net")
    assert companies == {
        "a@example.org": by_domain.pk,
        "b@example.org": by_name.pk,
        "c@example.org": newco.pk,
        "d@example.org": newco.pk,
    }


def test_formulas_are_stored_as_text_and_neutralised_in_every_csv(client_org):
    batch = import_rows(
        [
            ["eve@example.org", '=HYPERLINK("http://x")', "+Eve", "", "", "", ""],
            ["@bad", "-2+3", "", "", "", "", ""],
        ],
        client_org,
    )
    eve = Contact.objects.get(email="eve@example.org")
    assert eve.first_name == '=HYPERLINK("http://x")'
    assert contact_row(eve)[1:3] == ['\'=HYPERLINK("http://x")', "'+Eve"]
    rejected = report_rows(batch)[1]
    assert rejected[3:5] == ["'@bad", "'-2+3"]


# Provenance, audit, the file ---------------------------------------------------------------------


def test_every_imported_contact_has_provenance_and_awaits_its_art_14_notice(client_org):
    batch = import_rows([["anna@example.org", "Anna", "", "", "", "", ""]], client_org)
    provenance = ContactSource.objects.get()
    assert provenance.import_batch == batch
    assert provenance.source.kind == Source.Kind.CLIENT_LIST
    assert provenance.source.client == client_org
    assert timezone.localtime(provenance.collected_at).date() == STATEMENT.collected_on
    assert provenance.informed_at is None
    assert list(contacts_awaiting_notice()) == [provenance.contact]


def test_each_list_of_a_source_gives_its_own_provenance_and_the_source_cannot_be_deleted(
    client_org,
):
    first = import_rows([["anna@example.org", "Anna", "", "", "", "", ""]], client_org)
    # Another file from the same client and list name: the same source, another batch.
    second = import_rows([["anna@example.org", "Anna", "Jansen", "", "", "", ""]], client_org)
    assert (first.source_id, second.created, second.merged) == (second.source_id, 0, 1)
    anna = Contact.objects.get()
    assert sorted(anna.provenance.values_list("import_batch", flat=True)) == [first.pk, second.pk]
    with pytest.raises(ProtectedError):
        first.source.delete()
    assert ContactSource.objects.count() == 2
    # A batch deleted by the ORM leaves its provenance, no longer pointing at it.
    first.delete()
    assert sorted(anna.provenance.values_list("import_batch", flat=True), key=str) == [
        second.pk,
        None,
    ]


def test_provenance_recorded_twice_outside_an_import_stays_one_row():
    anna = ContactFactory(email="anna@example.org")
    source = get_source(kind=Source.Kind.EVENT, name="Spring fair")
    for _ in range(2):
        record_provenance(
            contact=anna, source=source, actor=None, channel="test", reference="stand 4"
        )
    assert anna.provenance.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactSource.objects.create(
            contact=anna, source=source, reference="stand 4", collected_at=timezone.now()
        )


def test_a_public_source_records_its_address(client_org):
    batch = import_rows(
        [["anna@example.org", "Anna", "", "", "", "", ""]],
        None,
        source_kind=Source.Kind.BUSINESS_DIRECTORY,
        list_name="Kompass NL",
        source_url="https://directory.example.org/",
    )
    assert (batch.source.name, batch.source.url) == ("Kompass NL", "https://directory.example.org/")


def test_the_file_is_deleted_and_the_import_audited_with_counts_only(client_org, settings):
    batch = upload(csv_bytes([["anna@example.org", "Anna", "", "", "", "", ""]]), client=client_org)
    stored = Path(settings.PRIVATE_FILES_DIR) / batch.file.name
    assert stored.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = run_batch(batch_id=batch.pk)
    assert not stored.exists()
    assert not batch.file
    assert stage_tables() == []
    events = AuditEvent.objects.filter(object_id=str(batch.pk))
    completed = events.get(details__import="completed")
    assert completed.details["created"] == 1
    assert "anna@example.org" not in str(list(events.values_list("details", flat=True)))


def test_running_the_same_file_again_changes_nothing(client_org):
    rows = [
        ["anna@example.org", "Anna", "Jansen", "", "Acme", "acme.example.org", ""],
        ["bram@example.org", "Bram", "", "", "", "", ""],
    ]
    first = import_rows(rows, client_org)
    before = (Contact.objects.count(), ContactSource.objects.count(), Company.objects.count())
    second = import_rows(rows, client_org)
    assert (first.created, second.created, second.merged) == (2, 0, 2)
    after = (Contact.objects.count(), ContactSource.objects.count(), Company.objects.count())
    assert after == before
    # The same batch run twice does nothing the second time.
    assert run_batch(batch_id=second.pk).merged == 2


def resumable_rows() -> list[list[str]]:
    """Twenty people, a NUL on rows 3 and 17, a repeated address (row 22), a bad one (row 23)."""
    nul = {1: "\x00", 15: "\x00"}
    rows = [
        [f"person{n}@example.org", f"P{n}{nul.get(n, '')}", "", "", "", "", ""] for n in range(20)
    ]
    return [
        *rows,
        ["person5@example.org", "Again", "", "", "", "", ""],
        ["bad", "", "", "", "", "", ""],
    ]


RESUMED_COUNTS = {
    "rows": 22,
    "created": 19,
    "merged": 1,
    "rejected": 2,
    "rejected_by_reason": {"duplicate": 1, "invalid_email": 1},
    "nul_bytes_dropped": 2,
}


def assert_resumed_as_uninterrupted(batch: ImportBatch) -> None:
    assert counts(batch) == RESUMED_COUNTS
    assert Contact.objects.count() == 20
    assert Contact.objects.get(email="person15@example.org").first_name == "P15"
    assert Contact.objects.get(email="person4@example.org").first_name == "Known"
    assert ContactSource.objects.filter(import_batch=batch).count() == 20
    assert [row[:4] for row in report_rows(batch)[1:]] == [
        ["22", "Duplicate of an earlier row in the file", RESUMED_DUPLICATE, "person5@example.org"],
        ["23", "Invalid e-mail address", RESUMED_INVALID, "bad"],
    ]


RESUMED_DUPLICATE = "The same address is on an earlier row of the file."
RESUMED_INVALID = "Enter a valid e-mail address, like name@example.org."


@pytest.mark.parametrize("processes", [1, 2])
def test_an_import_stopped_while_reading_the_file_resumes_and_ends_as_an_uninterrupted_one(
    client_org, settings, processes
):
    settings.IMPORT_CHUNK_ROWS = 3
    settings.IMPORT_STAGING_PROCESSES = processes
    ContactFactory(email="person4@example.org", first_name="Known")
    batch = upload(csv_bytes(resumable_rows()), client=client_org)

    class Stopped(Exception):
        pass

    def stop_while_reading(progress: ImportBatch) -> None:
        if progress.rows_read >= 6:
            raise Stopped  # as a worker killed between two chunks of the file

    with pytest.raises(Stopped):
        run_batch(batch_id=batch.pk, progress=stop_while_reading)
    batch.refresh_from_db()
    assert (batch.status, batch.step, batch.rows_read) == ("failed", "staging", 6)
    assert Contact.objects.count() == 1
    resume_batch(batch=batch, actor=None, channel="test", queue=False)
    # The repeated address's first row was read by the stopped run: the report still has its cells.
    assert_resumed_as_uninterrupted(run_batch(batch_id=batch.pk))


REFUSE_REJECTIONS = {
    "postgresql": (
        "CREATE FUNCTION refuse_rejection() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the database went away'; END $$; "
        "CREATE TRIGGER refuse_rejection BEFORE INSERT ON crm_importrejection "
        "FOR EACH ROW EXECUTE FUNCTION refuse_rejection()",
        "DROP TRIGGER refuse_rejection ON crm_importrejection; DROP FUNCTION refuse_rejection()",
    ),
    "sqlite": (
        "CREATE TRIGGER refuse_rejection BEFORE INSERT ON crm_importrejection "
        "BEGIN SELECT RAISE(ABORT, 'the database went away'); END",
        "DROP TRIGGER refuse_rejection",
    ),
}


def test_an_import_that_fails_in_the_middle_of_its_merge_keeps_nothing_of_it_and_resumes(
    client_org, settings
):
    settings.IMPORT_CHUNK_ROWS = 3
    ContactFactory(email="person4@example.org", first_name="Known")
    batch = upload(csv_bytes(resumable_rows()), client=client_org)
    refuse, allow = REFUSE_REJECTIONS[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(refuse)
    # The contacts and their provenance are written first, then the rejected rows fail.
    with pytest.raises(Exception, match="the database went away"):
        run_batch(batch_id=batch.pk)
    with connection.cursor() as cursor:
        cursor.execute(allow)
    batch.refresh_from_db()
    assert (batch.status, batch.step, batch.rows_done, batch.created) == (
        "failed",
        "prepared",
        0,
        0,
    )
    assert Contact.objects.count() == 1
    assert not ContactSource.objects.exists()
    resume_batch(batch=batch, actor=None, channel="test", queue=False)
    assert_resumed_as_uninterrupted(run_batch(batch_id=batch.pk))


def test_the_report_expires_by_its_retention_rule_and_goes_with_an_erased_person(client_org):
    rule = RetentionRule.objects.get_or_create(kind="import_reports", defaults={"period_days": 30})[
        0
    ]
    batch = import_rows(
        [
            ["anna@example.org", "Anna", "", "", "", "", ""],
            ["anna@example.org", "Anna", "Twice", "", "", "", ""],
            ["not an address", "Bram", "", "", "", "", ""],
        ],
        client_org,
    )
    assert batch.rejections.count() == 2
    erase_subject(
        contact=Contact.objects.get(email="anna@example.org"), requested_by=None, channel="test"
    )
    assert list(batch.rejections.values_list("reason", flat=True)) == ["invalid_email"]
    batch.rejections.update(created_at=timezone.now() - timedelta(days=31))
    run_rule(rule)
    assert not batch.rejections.exists()


def test_the_command_imports_a_file_and_shows_progress(client_org, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes([["anna@example.org", "Anna", "", "", "", "", ""]]))
    out = io.StringIO()
    call_command(
        "import_contacts",
        str(path),
        client="Tulip Events",
        source_kind="client_list",
        attestation="Signed up at the fair.",
        collected_on=date(2026, 3, 1),
        stdout=out,
    )
    text = out.getvalue()
    assert "merged 1 of 1 rows: 1 created" in text
    assert "completed: 1 rows, 1 created, 0 merged, 0 rejected" in text
    assert Contact.objects.filter(email="anna@example.org").exists()


def test_a_draft_left_unmapped_is_discarded_with_its_file(client_org, settings):
    draft = upload(
        csv_bytes([["anna@example.org", "Anna", "", "", "", "", ""]]),
        client=client_org,
        mapping=None,
    )
    stored = Path(settings.PRIVATE_FILES_DIR) / draft.file.name
    assert (draft.status, stored.exists()) == (ImportBatch.Status.DRAFT, True)
    ImportBatch.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=3))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert discard_unfinished() == 1
    draft.refresh_from_db()
    assert (draft.status, bool(draft.file), stored.exists()) == ("discarded", False, False)
    assert not Contact.objects.exists()


def test_the_privacy_officer_reads_imports_but_cannot_upload(client, django_user_model):
    run_roles_migration()
    batch = import_rows(
        [["anna@example.org", "Anna", "", "", "", "", ""]],
        None,
        source_kind=Source.Kind.PUBLIC_WEBSITE,
        list_name="Company websites",
    )
    officer = django_user_model.objects.create_user(username="olga", is_staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    client.force_login(officer)
    page = client.get(reverse("admin:crm_importbatch_change", args=[batch.pk]))
    assert page.status_code == 200
    assert "Consent" in page.text  # the attested legal basis
    assert client.get(reverse("admin:crm_importbatch_add")).status_code == 403
    assert client.get(reverse("admin:crm_importbatch_report", args=[batch.pk])).status_code == 200


def test_rows_are_numbered_as_a_spreadsheet_shows_them_blank_rows_included(client_org):
    content = b"E-mail,First name\r\nanna@example.org,Anna\r\n\r\n,\r\nnot an address,Bram\r\n"
    batch = run_batch(batch_id=upload(content, client=client_org, mapping={"email": 0}).pk)
    assert list(batch.rejections.values_list("row_number", "reason")) == [(5, "invalid_email")]


def test_a_row_refused_for_its_phone_is_found_with_its_person_for_export_and_erasure(client_org):
    bram = ContactFactory(email="bram@example.org")
    import_rows([["bram@example.org", "Bram", "", "12", "", "", ""]], client_org)

    found = registry.get(ImportRejection).rows_for(contact_ids=[bram.pk])

    assert list(found.values_list("reason", flat=True)) == ["invalid_phone"]


@pytest.mark.parametrize("column", [[0], True, "²"])
def test_a_mapping_naming_its_column_in_a_strange_way_is_refused_with_a_message(client_org, column):
    content = csv_bytes([["anna@example.org", "Anna", "", "", "", "", ""]])
    with pytest.raises(ValidationError) as refused:
        upload(content, client=client_org, mapping={"email": column})
    assert "mapping" in refused.value.message_dict
    assert not ImportBatch.objects.exists()


REPORTED_ROWS = [
    ["anna@example.org", "Anna", "Jansen", "", "", "", ""],  # 2: created
    ["bram@example.org", "Bram", "", "12", "", "", ""],  # 3: invalid phone
    ["gone@example.org", "Gone", "", "", "", "", ""],  # 4: opted out
    ["carla@example.org", "=1+2", 'Dúbois, "la"', "", "Zoë & Co", "", ""],  # 5: created
    ["bram@example.org", "Bram", "Again"],  # 6: created (row 3 was refused), a short row
    ["Anna@Example.org", "Anna", "Twice", "", "", "", "", "extra", "cells"],  # 7: duplicate
    ["Gone@example.org", "Gone", "Again", "", "", "", ""],  # 8: opted out
    ["not an address", "@SUM(A1)", "", "", "", "", ""],  # 9: invalid address
    ["CARLA@example.org", "Carla", "\u00a0", "", "", "", ""],  # 10: duplicate
    ["dirk@example.org", "Dirk", "", "", "", "", ""],  # 11: created
    ["dirk@example.org", "Dirk", "", "", "", "", ""],  # 12: duplicate
]
# The report as the import wrote it when every staged row carried its cells (byte for byte).
EXPECTED_REPORT = (
    b"row,reason,message,E-mail,First name,Last name,Phone,Company,Website,Birth date\r\n"
    b"3,Invalid phone number,\"This phone number does not exist in its country's numbering plan. "
    b'No country is given for it, so it was read as NL.",bram@example.org,Bram,,12,,,\r\n'
    b"4,Opted out of all contact,This address opted out of all contact.\r\n"
    b"7,Duplicate of an earlier row in the file,The same address is on an earlier row of the "
    b"file.,Anna@Example.org,Anna,Twice,,,,,extra,cells\r\n"
    b"8,Opted out of all contact,This address opted out of all contact.\r\n"
    b'9,Invalid e-mail address,"Enter a valid e-mail address, like name@example.org.",'
    b"not an address,'@SUM(A1),,,,,\r\n"
    b"10,Duplicate of an earlier row in the file,The same address is on an earlier row of the "
    b"file.,CARLA@example.org,Carla,\xc2\xa0,,,,\r\n"
    b"12,Duplicate of an earlier row in the file,The same address is on an earlier row of the "
    b"file.,dirk@example.org,Dirk,,,,,\r\n"
)


@pytest.mark.parametrize("slot_bits", [26, 3])
def test_the_report_of_rejected_rows_is_the_same_byte_for_byte(
    client_org, settings, monkeypatch, slot_bits
):
    # 3 bits: every address shares a slot of the table of addresses seen, so every row keeps its
    # cells on the way; 26: almost none does. Either way the report is the same.
    monkeypatch.setattr("crm.imports.rows.SEEN_SLOT_BITS", slot_bits)
    settings.IMPORT_CHUNK_ROWS = 2
    suppress(email="gone@example.org", reason="unsubscribe")
    batch = import_rows(REPORTED_ROWS, client_org)
    out = io.StringIO()
    write_report(batch=batch, out=out, actor=None, channel="test")
    assert out.getvalue().encode("utf-8") == EXPECTED_REPORT
    assert (batch.created, batch.rejected) == (4, 7)
