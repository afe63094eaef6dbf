"""Staging a list: the rows staged on forked processes are the rows the single process stages.

The expected rows were staged by the code before staging used more than one process
(import_staged_rows.json); the same messy file is staged in chunks of four rows on one process
and on two, and each staged row, read back from the table, must be that one exactly.
"""

import csv
import gc
import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from core.hashing import stored_email_hash
from crm.imports.batches import Attestation, create_batch
from crm.imports.rows import STAGE_COLUMNS, RowPlan
from crm.imports.staging import Stage, stage_file
from crm.models import ImportBatch, Source
from tests.crm.factories import ClientFactory, CompanyFactory

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).with_name("import_staged_rows.json")
HEADER = [
    "E-mail",
    "First name",
    "Last name",
    "Phone",
    "Job",
    "Company",
    "Website",
    "Country",
    "Language",
    "Birth date",
]
MAPPING = {
    "email": 0,
    "first_name": 1,
    "last_name": 2,
    "phone": 3,
    "job_title": 4,
    "company": 5,
    "company_domain": 6,
    "country": 7,
    "language": 8,
    "birth_date": 9,
}
# Every kind of row staging refuses or normalises, the repeats of an address spread over chunks.
MESSY_ROWS = [
    ["anna@example.org", "Anna", "de Vries", "", "Buyer", "", "", "NL", "nl", "1980-05-17"],
    ["  Bram@Example.ORG ", " Bram ", "Smit", "020 123 4567", "", "", "", "nl", "NL", ""],
    ["", "Nobody", "Empty", "", "", "", "", "NL", "", ""],
    ["not an address", "Broken", "", "", "", "", "", "NL", "", ""],
    ["claire@example.net", "Claire", "Martin", "01 23 45 67 89", "", "", "", "France", "fr", ""],
    ["noor@example.net", "Noor", "", "06 12345678", "", "", "", "", "", ""],
    ["paul@example.net", "Paul", "", "01 23 45 67 89", "", "Paul", "paul.example.net", "", "", ""],
    ["rose@example.net", "Rose", "", "02 123 45 67", "", "Atelier Rose", "", "", "", ""],
    ["twelve@example.org", "Twelve", "", "12", "", "", "", "NL", "", ""],
    ["child@example.org", "Little", "One", "", "", "", "", "NL", "", "2019-05-01"],
    ["late@example.org", "Late", "", "", "", "", "", "NL", "", "31-02-1980"],
    ["dotted@example.org", "Dotted", "", "", "", "", "", "NL", "", "17.05.1980"],
    ["slashed@example.org", "Slashed", "", "", "", "", "", "NL", "", "1980/05/17"],
    ["where@example.org", "Where", "", "", "", "", "", "Atlantis", "", ""],
    ["long@example.org", "N" * 101, "Long", "", "", "", "", "NL", "", ""],
    ["title@example.org", "Title", "", "", "T" * 151, "", "", "NL", "", ""],
    ["firm@example.org", "Firm", "", "", "", "F" * 201, "", "NL", "", ""],
    ["josé@exämple.org", "José", "Müller", "", "", "Bücher", "https://bücher.example.org/", "DE"],
    ["info@bücher.example.org", "Info", "", "", "", "", "", "DE", "de", ""],
    ["zoë@example.org", "Zoë", "Ørsted", "+45 32 12 34 56", "", "", "", "DK", "da", ""],
    ["ze\u200bro@example.org", "Zero", "Width", "", "", "", "", "NL", "", ""],
    ["tester@mail.test", "Special", "Use", "", "", "", "", "NL", "", ""],
    ["Sanne Visser <Sanne.Visser@example.org>", "Sanne", "Visser", "", "", "", "", "NL"],
    ["anna@example.org", "Anna", "Again", "", "", "", "", "NL", "", ""],
    ["ANNA@example.org", "Anna", "Third", "", "", "", "", "NL", "", ""],
    ["daan@example.org", "Daan", "Smit", "020 123 4567 ext. 89", "Head of\nsales\tEMEA", "", ""],
    ["short@example.org"],
    ["extra@example.org", "Extra", "", "", "", "", "", "NL", "", "", "more", "cells"],
    ["control@example.org", "Con\x07trol", "Bell", "", "", "", "", "NL", "", ""],
    ["bad.domain@example.org", "Bad", "Domain", "", "", "Nowhere", "http://-bad-.example/", "NL"],
    ["bram@example.org", "Bram", "Later", "", "", "", "", "NL", "", ""],
    ["plus@example.org", "Plus", "", "+44 20 7946 0123", "", "", "", "", "en", ""],
    ["old@example.org", "Old", "", "", "", "", "", "NL", "", "1899-12-31"],
    ["future@example.org", "Future", "", "", "", "", "", "NL", "", "2999-01-01"],
    ["ext@example.org", "Ext", "", "020 123 4567 ext. 123456789012345678901234567890", "", ""],
    ["fr.code@example.net", "Code", "", "", "", "", "", "fr", "", ""],
    ["anna@example.org", "Anna", "Fourth", "", "", "", "", "NL", "", ""],
]


def messy_file() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *MESSY_ROWS])
    return out.getvalue().encode()


def staged_rows(batch: ImportBatch) -> list[list]:
    """Return the batch's staged rows as stored, the address hash checked against its address."""
    stage = Stage(batch)
    with connection.cursor() as cursor:
        columns = ", ".join(STAGE_COLUMNS)
        # The batch's own table and the constant columns; no value goes in.
        cursor.execute(f"SELECT {columns} FROM {stage.table} ORDER BY row_number")  # noqa: S608
        rows = cursor.fetchall()
    hashed = STAGE_COLUMNS.index("email_hash")
    born = STAGE_COLUMNS.index("birth_date")
    comparable = []
    for row in rows:
        values = list(row)
        if values[hashed] and values[hashed] == stored_email_hash(values[1]):
            values[hashed] = "hash of the address"
        if isinstance(values[born], date):
            values[born] = values[born].isoformat()
        comparable.append(values)
    return comparable


def new_batch(content: bytes) -> ImportBatch:
    CompanyFactory(name="Boulangerie Paul", domain="paul.example.net", country="FR")
    CompanyFactory(name="Atelier Rose", domain="", country="BE")
    return create_batch(
        upload=ContentFile(content, name="messy.csv"),
        file_name="messy.csv",
        client=ClientFactory(name="Tulip Events", country="NL"),
        source_kind=Source.Kind.CLIENT_LIST,
        list_name="Spring fair",
        attestation=Attestation("consent", "Ticked the box.", date(2026, 3, 1)),
        actor=None,
        channel="test",
        mapping=MAPPING,
    )


def stage(content: bytes) -> ImportBatch:
    batch = new_batch(content)
    stage = Stage(batch)
    stage.create()
    stage_file(batch=batch, stage=stage)
    return batch


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    settings.DEFAULT_PHONE_REGION = "NL"


@pytest.mark.parametrize("processes", [1, 2])
def test_a_messy_file_stages_the_rows_it_staged_on_one_process_on_any_number(settings, processes):
    settings.IMPORT_CHUNK_ROWS = 4
    settings.IMPORT_STAGING_PROCESSES = processes

    collector = gc.get_threshold()

    batch = stage(messy_file())

    assert (batch.step, batch.rows_read) == ("staged", len(MESSY_ROWS))
    assert (gc.get_threshold(), gc.get_freeze_count()) == (collector, 0)
    assert staged_rows(batch) == json.loads(EXPECTED.read_text(encoding="utf-8"))


@pytest.mark.parametrize("processes", [1, 2])
def test_a_chunk_failing_in_its_process_stops_the_staging_after_the_chunks_written_and_resumes(
    settings, monkeypatch, processes
):
    settings.IMPORT_CHUNK_ROWS = 4
    settings.IMPORT_STAGING_PROCESSES = processes
    batch = new_batch(messy_file())
    stage = Stage(batch)
    stage.create()
    normalise = RowPlan.stage

    def fail_on_row_16(plan: RowPlan, number: int, cells: list[str]) -> tuple:
        if number == 16:
            raise RuntimeError("the normalising process went away")
        return normalise(plan, number, cells)

    # Patched before the pool forks, so the forked processes fail on the row as well.
    monkeypatch.setattr(RowPlan, "stage", fail_on_row_16)
    collector = gc.get_threshold()
    with pytest.raises(RuntimeError, match="went away"):
        stage_file(batch=batch, stage=stage)
    # The worker's garbage collector is as it was for the tasks after this one.
    assert (gc.get_threshold(), gc.get_freeze_count()) == (collector, 0)
    batch.refresh_from_db()
    # Rows 2 to 13 are three chunks of four; the fourth, rows 14 to 17, failed.
    assert (batch.step, batch.rows_read, stage.last_row()) == ("staging", 12, 13)

    monkeypatch.setattr(RowPlan, "stage", normalise)
    stage_file(batch=batch, stage=stage)

    assert (batch.step, batch.rows_read) == ("staged", len(MESSY_ROWS))
    assert staged_rows(batch) == json.loads(EXPECTED.read_text(encoding="utf-8"))
