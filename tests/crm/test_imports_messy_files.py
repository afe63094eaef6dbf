"""Lists as they really come: one bad row never sinks a batch, on SQLite and PostgreSQL alike.

Run on both databases (the suite runs on SQLite, and again with DATABASE_URL on PostgreSQL): the
expected outcomes are written out here, so both runs are held to the same result.
"""

import csv
import io
from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from crm.imports.batches import Attestation, create_batch, run_batch
from crm.models import Contact, ImportBatch, Source
from tests.crm.factories import ClientFactory, CompanyFactory

pytestmark = pytest.mark.django_db

STATEMENT = Attestation(
    legal_basis="consent",
    text="Visitors of the spring fair ticked the box to hear from the client's partners.",
    collected_on=date(2026, 3, 1),
)
HEADER = ["E-mail", "First name", "Last name", "Phone", "Job title", "Country"]
MAPPING = {
    "email": "E-mail",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "job_title": "Job title",
    "country": "Country",
}
FILLER_ROWS = 1500  # enough rows to put the end of the file well past its first 64 KiB
# 64 + 1 + 190 = 255 characters: one more than an address can have (RFC 5321).
ADDRESS_255 = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 58]) + ".org"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    settings.DEFAULT_PHONE_REGION = "NL"


def upload(content: bytes, *, name: str = "fair.csv", client=None, **overrides) -> ImportBatch:
    arguments = {
        "client": client,
        "source_kind": Source.Kind.CLIENT_LIST if client else Source.Kind.EVENT,
        "list_name": "Spring fair",
        "attestation": STATEMENT,
        "actor": None,
        "channel": "test",
        "mapping": MAPPING,
        **overrides,
    }
    return create_batch(upload=ContentFile(content, name=name), file_name=name, **arguments)


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def rejections(batch: ImportBatch) -> dict[int, str]:
    return dict(batch.rejections.values_list("row_number", "reason"))


# One messy file -----------------------------------------------------------------------------


def messy_file() -> bytes:
    """Two blank lines, the header, 1,500 good rows, then every kind of trouble near the end."""
    filler = [
        [f"visitor{n}@example.org", f"Visitor{n}", "Jansen", "", "Buyer", "NL"]
        for n in range(FILLER_ROWS)
    ]
    trouble = [
        [ADDRESS_255, "Too", "Long", "", "", "NL"],
        ["ze\u200bro@example.org", "Zero", "Width", "", "", "NL"],
        ["tester@mail.test", "Special", "Use", "", "", "NL"],
        ["Sanne Visser <Sanne.Visser@example.org>", "Sanne", "Visser", "", "", "NL"],
        ["long.name@example.org", "N" * 101, "Long", "", "", "NL"],
        ["daan@example.org", "Daan", "Smit", "020 123 4567 ext. 89", "Head of sales\vEMEA", "NL"],
        ["claire@example.net", "Claire", "Martin", "01 23 45 67 89", "", "FR"],
        ["no.country@example.net", "Noor", "", "06 12345678", "", ""],
        ["lotte@example.org", "Lot\x00te", "de Vries", "", "", "NL"],
        ["last@example.org", "Last", "Row", "", "", "NL"],
    ]
    return ("\r\n\r\n" + csv_text([HEADER, *filler, *trouble])).encode()


def test_one_messy_file_imports_every_good_row_the_same_way_on_each_database():
    content = messy_file()
    nul_at = content.index(b"\x00")
    assert nul_at > 64 * 1024 and len(content) - nul_at < 1024  # in the last kilobyte

    batch = run_batch(batch_id=upload(content).pk)

    first = 4 + FILLER_ROWS  # rows 1-2 blank, the header on row 3
    assert batch.status == ImportBatch.Status.COMPLETED
    assert rejections(batch) == {
        first: "invalid_email",
        first + 1: "invalid_email",
        first + 2: "invalid_email",
        first + 4: "too_long",
        first + 7: "ambiguous_phone",
    }
    assert (batch.created, batch.rejected, batch.nul_bytes_dropped) == (FILLER_ROWS + 5, 5, 1)
    assert Contact.objects.filter(email__startswith="visitor").count() == FILLER_ROWS
    assert Contact.objects.get(email="lotte@example.org").first_name == "Lotte"
    assert Contact.objects.filter(email="sanne.visser@example.org").exists()
    daan = Contact.objects.get(email="daan@example.org")
    assert (daan.phone, daan.job_title) == ("+31201234567;ext=89", "Head of sales EMEA")
    assert Contact.objects.get(email="claire@example.net").phone == "+33123456789"
    assert not Contact.objects.filter(email__contains="ro@example.org").exists()
    assert Contact.objects.get(email="last@example.org").last_name == "Row"


def test_each_refused_row_of_the_messy_file_says_why_and_keeps_its_cells():
    batch = run_batch(batch_id=upload(messy_file()).pk)
    messages = dict(batch.rejections.values_list("reason", "message"))
    by_row = {row.row_number: row for row in batch.rejections.all()}

    first = 4 + FILLER_ROWS
    assert "too long (1 character too many)" in by_row[first].message
    assert "zero width space, U+200B" in by_row[first + 1].message
    assert "mail.test is reserved" in by_row[first + 2].message
    assert "at most 100 fit" in messages["too_long"]
    assert "could be a number in NL" in messages["ambiguous_phone"]
    assert by_row[first].cells[0] == ADDRESS_255


def test_a_company_known_only_by_a_long_domain_is_named_within_its_column():
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63]) + ".example.org"  # 203 characters
    rows = [["E-mail", "Website"], ["anna@example.org", f"https://{domain}/"]]
    mapping = {"email": "E-mail", "company_domain": "Website"}
    batch = run_batch(batch_id=upload(csv_text(rows).encode(), mapping=mapping).pk)

    company = Contact.objects.get(email="anna@example.org").company
    assert (batch.created, company.domain, company.name) == (1, domain, domain[:200])


# Blank lines, vertical tabs, NULs --------------------------------------------------------------


def test_blank_lines_above_the_header_are_skipped_and_rows_keep_their_spreadsheet_numbers():
    content = b"\r\n,,\r\n\r\nE-mail,First name\r\nanna@example.org,Anna\r\nnot an address,Bram\r\n"
    batch = run_batch(batch_id=upload(content, mapping={"email": "E-mail"}).pk)

    assert batch.headers == ["E-mail", "First name"]
    assert (batch.created, rejections(batch)) == (1, {6: "invalid_email"})


def test_a_vertical_tab_or_form_feed_inside_a_cell_reads_as_a_line_break():
    content = csv_text(
        [HEADER, ["anna@example.org", "Anna", "", "", "Sales\x0bNorth\x0cEast", ""], ["bad"]]
    )
    batch = run_batch(batch_id=upload(content.encode()).pk)

    assert Contact.objects.get(email="anna@example.org").job_title == "Sales North East"
    assert batch.rejections.get().cells == ["bad"]

    fields = csv_text([HEADER, ["bram@example.org", "Bram", "", "", "", ""]])
    tab_separated = fields.replace(",", "\t").replace("Bram", "Br\x0bam").encode()
    run_batch(batch_id=upload(tab_separated, name="filemaker.tab").pk)
    assert Contact.objects.get(email="bram@example.org").first_name == "Br am"


def test_nul_bytes_are_dropped_counted_and_shown_on_the_progress_page(admin_client):
    content = csv_text([HEADER, ["an\x00na@example.org", "An\x00\x00na", "", "", "", ""]]).encode()
    batch = run_batch(batch_id=upload(content).pk)

    assert (batch.created, batch.nul_bytes_dropped) == (1, 3)
    assert Contact.objects.get(email="anna@example.org").first_name == "Anna"
    page = admin_client.get(reverse("admin:crm_importbatch_change", args=[batch.pk]))
    assert "3 NUL characters" in page.text


def test_a_file_made_mostly_of_nul_bytes_is_still_refused_as_binary():
    with pytest.raises(ValidationError) as refused:
        upload(b"E-mail\r\n" + b"\x00" * 4000 + b"anna@example.org\r\n")
    assert "not a text (CSV) or Excel" in refused.value.message_dict["file"][0]
    assert not ImportBatch.objects.exists()


# Phones read in the row's, the company's, the client's country --------------------------------


PHONE_HEADER = ["E-mail", "Phone", "Country", "Company", "Website"]
PHONE_MAPPING = {
    "email": "E-mail",
    "phone": "Phone",
    "country": "Country",
    "company": "Company",
    "company_domain": "Website",
}


def test_a_local_number_is_read_in_the_rows_country_then_the_companys_then_the_clients():
    CompanyFactory(name="Boulangerie Paul", domain="paul.example.net", country="FR")
    CompanyFactory(name="Atelier Rose", domain="", country="FR")
    dutch = ClientFactory(name="Tulip Events", country="NL")
    rows = [
        PHONE_HEADER,
        ["row@example.org", "01 23 45 67 89", "FR", "", ""],
        ["domain@example.org", "01 23 45 67 89", "", "Paul", "https://paul.example.net/"],
        ["name@example.org", "01 23 45 67 89", "", "Atelier Rose", ""],
        ["client@example.org", "020 123 4567", "", "", ""],
        ["plus@example.org", "+44 20 7946 0123", "", "", ""],
    ]
    batch = upload(csv_text(rows).encode(), client=dutch, mapping=PHONE_MAPPING)
    batch = run_batch(batch_id=batch.pk)

    phones = dict(Contact.objects.values_list("email", "phone"))
    assert phones == {
        "row@example.org": "+33123456789",
        "domain@example.org": "+33123456789",
        "name@example.org": "+33123456789",
        "client@example.org": "+31201234567",
        "plus@example.org": "+442079460123",
    }
    assert batch.rejected == 0


def test_a_national_number_with_no_country_anywhere_is_refused_rather_than_guessed():
    rows = [PHONE_HEADER, ["claire@example.net", "01 23 45 67 89", "", "", ""]]
    batch = run_batch(batch_id=upload(csv_text(rows).encode(), mapping=PHONE_MAPPING).pk)

    refusal = batch.rejections.get()
    assert refusal.reason == "ambiguous_phone"
    assert "Give the country" in refusal.message
    assert not Contact.objects.exists()


# Workbooks with several sheets ----------------------------------------------------------------


def workbook(tmp_path, sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path.read_bytes()


TWO_SHEETS = {
    "Spring": [["E-mail"], ["spring@example.org"]],
    "Autumn": [[None], ["E-mail"], ["autumn@example.org"], ["also.autumn@example.org"]],
}


def test_a_workbook_with_several_sheets_is_refused_until_one_is_named(tmp_path):
    content = workbook(tmp_path, TWO_SHEETS)
    with pytest.raises(ValidationError) as refused:
        upload(content, name="book.xlsx", mapping={"email": "E-mail"})
    assert refused.value.message_dict["sheet"] == [
        "This workbook has 2 sheets holding data: 'Spring', 'Autumn'. Choose the one to import."
    ]
    assert not ImportBatch.objects.exists()

    batch = upload(content, name="book.xlsx", mapping={"email": "E-mail"}, sheet="Autumn")
    batch = run_batch(batch_id=batch.pk)
    assert batch.sheet == "Autumn"
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "autumn@example.org",
        "also.autumn@example.org",
    }


def test_a_sheet_the_workbook_does_not_have_is_refused_with_the_names_it_has(tmp_path):
    with pytest.raises(ValidationError) as refused:
        upload(workbook(tmp_path, TWO_SHEETS), name="book.xlsx", sheet="Winter")
    assert "no sheet named 'Winter'; its sheets are: 'Spring', 'Autumn'" in str(refused.value)


def test_a_workbook_whose_other_sheets_are_empty_imports_the_one_with_data(tmp_path):
    content = workbook(tmp_path, {"Notes": [], "People": [["E-mail"], ["anna@example.org"]]})
    batch = run_batch(batch_id=upload(content, name="book.xlsx", mapping={"email": 0}).pk)

    assert (batch.sheet, batch.created) == ("People", 1)


def test_the_command_asks_for_the_sheet_and_imports_the_one_given(tmp_path):
    ClientFactory(name="Tulip Events")
    path = tmp_path / "two.xlsx"
    path.write_bytes(workbook(tmp_path, TWO_SHEETS))
    options = {
        "client": "Tulip Events",
        "attestation": "Signed up at the fair.",
        "collected_on": date(2026, 3, 1),
        "stdout": StringIO(),
    }
    with pytest.raises(CommandError, match="2 sheets holding data: 'Spring', 'Autumn'"):
        call_command("import_contacts", str(path), **options)
    assert not ImportBatch.objects.exists()

    call_command("import_contacts", str(path), sheet="Spring", **options)
    assert list(Contact.objects.values_list("email", flat=True)) == ["spring@example.org"]


def test_the_admin_asks_for_the_sheet_once_the_workbook_is_uploaded(admin_client, tmp_path):
    tulip = ClientFactory(name="Tulip Events")
    form = {
        "source_kind": "client_list",
        "client": tulip.pk,
        "legal_basis": "consent",
        "attestation": "Visitors ticked the box.",
        "collected_on": "2026-03-01",
    }
    content = workbook(tmp_path, TWO_SHEETS)
    sent = admin_client.post(
        reverse("admin:crm_importbatch_add"),
        {**form, "file": ContentFile(content, name="book.xlsx")},
    )
    batch = ImportBatch.objects.get()
    mapping_url = reverse("admin:crm_importbatch_map", args=[batch.pk])
    assert sent.status_code == 302 and sent.url == mapping_url

    page = admin_client.get(mapping_url)
    assert 'value="Spring"' in page.text and 'value="Autumn"' in page.text
    assert "import-preview" not in page.text  # no columns before the sheet is chosen
    refused = admin_client.post(mapping_url, {"sheet": "Winter"})
    assert refused.status_code == 200 and not ImportBatch.objects.get().sheet

    assert admin_client.post(mapping_url, {"sheet": "Autumn"}).status_code == 302
    page = admin_client.get(mapping_url)
    assert "also.autumn@example.org" in page.text and "sheet “Autumn”" in page.text
    assert admin_client.post(mapping_url, {"email": "0"}).status_code == 302
    run_batch(batch_id=batch.pk)
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "autumn@example.org",
        "also.autumn@example.org",
    }
