"""Import client-supplied and public-source lists (DESIGN rules 3 and 4; GDPR art. 5, 8, 14, 21).

A list comes with the client's attestation: the legal basis and how and when the data was
collected (for public sources, the directory or site). It becomes an `ImportBatch`; every contact
it brings in or matches gets a `ContactSource` pointing at the batch, with `informed_at` empty, so
the daily art. 14 notice tells the person (privacy/accountability/indirect_notices.py).

The work is streamed, chunked and set-based, so memory stays flat whatever the file's size and no
row goes through the ORM one by one (docs/performance.md has the figures):

1. *Stage*: the file is streamed; each row is normalised in Python by the same functions every
   other entry point uses (core.normalisation, crm.contacts.refuse_children), its address hashed
   with the suppression key, and the rows are written to a staging table of their own (PostgreSQL:
   an unlogged table filled by COPY; SQLite: executemany), one transaction per chunk.
2. *Prepare*, in SQL over the rows not merged yet, in one transaction: rows whose address opted
   out, globally or for this client, are refused and keep no values; later rows repeating an
   address are refused as duplicates; companies are matched by domain, else by exact name, and
   missing ones created; rows matching an existing contact by normalised address fill only that
   contact's blank fields (never a value staff or anyone else entered, never a restricted
   person's record).
3. *Merge*, in SQL, chunk by chunk, one transaction each: the other valid rows are inserted as
   contacts; provenance and the rejected rows are written, and the batch's counters and the last
   row merged move in the same transaction.

Every step is idempotent and the batch records how far it got, so a worker killed anywhere can be
resumed and ends exactly as an uninterrupted run; re-running the same file creates nothing twice
(the provenance of a file already imported from the same source is not added again). The uploaded
file is deleted and the staging table dropped when the batch ends. The audit trail gets one event
when the batch is created and one with the counts when it ends, never the data.
"""

import csv
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.hashing import stored_email_hasher
from core.legal import LegalBasis
from core.models import AuditEvent
from core.normalisation import normalise_country, normalise_domain, normalise_email, normalise_phone
from core.outbox import enqueue_on_commit
from crm.contacts import refuse_children
from crm.exports_csv import Writable, neutralise_formula
from crm.import_files import FileLayout, inspect_file, read_rows
from crm.models import Client, Contact, ImportBatch, ImportRejection, Source
from crm.provenance import get_source

logger = logging.getLogger(__name__)

Reason = ImportRejection.Reason
Status = ImportBatch.Status

# The contact fields a column can be mapped to, with their labels in the mapping step.
FIELDS: dict[str, str] = {
    "email": "E-mail",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "job_title": "Job title",
    "company": "Company name",
    "company_domain": "Company website or domain",
    "country": "Country",
    "language": "Language",
    "birth_date": "Birth date",
}
# Column names recognised when guessing a mapping (lower case, without spaces, dots or dashes).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "mail", "emailaddress", "emailadres", "courriel", "adresaemail"),
    "first_name": ("firstname", "givenname", "voornaam", "vorname", "prenom", "prénom", "prenume"),
    "last_name": ("lastname", "surname", "familyname", "achternaam", "nachname", "nom", "nume"),
    "phone": ("phone", "telephone", "telefoon", "telefon", "tel", "mobile", "phonenumber"),
    "job_title": ("jobtitle", "title", "function", "functie", "position", "role"),
    "company": ("company", "companyname", "organisation", "organization", "bedrijf", "firma"),
    "company_domain": ("website", "domain", "companywebsite", "companydomain", "url", "web"),
    "country": ("country", "land", "countrycode", "pays", "tara"),
    "language": ("language", "taal", "sprache", "langue", "limba"),
    "birth_date": ("birthdate", "dateofbirth", "dob", "birthday", "geboortedatum"),
}
# What a list can be: sources not collected from the person (art. 14) and events.
IMPORTABLE_KINDS = (
    Source.Kind.CLIENT_LIST,
    Source.Kind.BUSINESS_DIRECTORY,
    Source.Kind.PUBLIC_WEBSITE,
    Source.Kind.SOCIAL_MEDIA,
    Source.Kind.BUSINESS_PARTNER,
    Source.Kind.THIRD_PARTY,
    Source.Kind.EVENT,
)
PUBLIC_KINDS = (
    Source.Kind.BUSINESS_DIRECTORY,
    Source.Kind.PUBLIC_WEBSITE,
    Source.Kind.SOCIAL_MEDIA,
)
# The legal bases a list of prospects can rest on; the others cannot apply to direct marketing.
LEGAL_BASES = (
    LegalBasis.CONSENT,
    LegalBasis.LEGITIMATE_INTEREST,
    LegalBasis.CONTRACT,
)
COUNTRY_MEMO_SIZE = 10_000
DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")
STAGE_COLUMNS = (
    "row_number",
    "email",
    "email_hash",
    "first_name",
    "last_name",
    "phone",
    "job_title",
    "country",
    "language",
    "birth_date",
    "company_name",
    "company_domain",
    "reason",
    "message",
    "cells",
)
Progress = Callable[[ImportBatch], None]


# Upload and mapping ------------------------------------------------------------------------------


def check_file(handle: BinaryIO, *, size: int) -> FileLayout:
    """Return the file's layout; raise ValidationError for an empty, binary or too large file."""
    return inspect_file(handle, size=size, max_bytes=settings.IMPORT_MAX_FILE_BYTES)


def guess_mapping(headers: list[str], *, client: Client | None = None) -> dict[str, int]:
    """Return a mapping for these columns: the client's last one by column name, else by synonym."""
    by_name = {name.strip().lower(): index for index, name in enumerate(headers)}
    remembered = remembered_mapping(client) if client is not None else {}
    mapping = {
        field: by_name[name.lower()]
        for field, name in remembered.items()
        if name.lower() in by_name
    }
    squashed = {re.sub(r"[\s._\-]", "", name.lower()): index for index, name in enumerate(headers)}
    for field, names in SYNONYMS.items():
        if field in mapping:
            continue
        found = next((squashed[name] for name in names if name in squashed), None)
        if found is not None and found not in mapping.values():
            mapping[field] = found
    return mapping


def remembered_mapping(client: Client) -> dict[str, str]:
    """Return the client's last used mapping as field -> column name."""
    last = (
        ImportBatch.objects.filter(client=client)
        .exclude(status=Status.DRAFT)
        .exclude(mapping={})
        .order_by("-created_at", "-pk")
        .first()
    )
    if last is None:
        return {}
    return {
        field: last.headers[index]
        for field, index in last.mapping.items()
        if isinstance(index, int) and index < len(last.headers)
    }


def clean_mapping(mapping: dict[str, Any], headers: list[str]) -> dict[str, int]:
    """Return the mapping as field -> column number; refuse unknown fields or columns, no e-mail.

    Columns may be given by number (from 0) or by name.
    """
    cleaned: dict[str, int] = {}
    errors = []
    for field, column in mapping.items():
        if column in (None, ""):
            continue
        if field not in FIELDS:
            errors.append(f"{field!r} is not a contact field; use one of {', '.join(FIELDS)}.")
            continue
        if isinstance(column, str) and not column.isdecimal():
            if column not in headers:
                errors.append(f"The file has no column named {column!r}.")
                continue
            column = headers.index(column)
        if isinstance(column, bool) or not isinstance(column, int | str):
            errors.append(f"Give the column of {field!r} as its name or its number.")
            continue
        index = int(column)
        if not 0 <= index < len(headers):
            errors.append(f"The file has no column number {index}.")
            continue
        cleaned[field] = index
    if "email" not in cleaned:
        errors.append("Map one column to E-mail: contacts are matched and deduplicated by it.")
    used = list(cleaned.values())
    if len(used) != len(set(used)):
        errors.append("Map each column to one field only.")
    if errors:
        raise ValidationError({"mapping": errors})
    return cleaned


@dataclass(frozen=True)
class Attestation:
    """What the client states about the list: the legal basis, how and when it was collected."""

    legal_basis: str
    text: str
    collected_on: date


def create_batch(
    *,
    upload: File,
    file_name: str,
    client: Client | None,
    source_kind: str,
    list_name: str,
    attestation: Attestation,
    actor: Actor,
    channel: str,
    source_url: str = "",
    mapping: dict[str, Any] | None = None,
) -> ImportBatch:
    """Check the file and the statement, store the file, and record a batch; nothing runs yet.

    With a `mapping` the batch is ready to start, else it waits in draft for the mapping step.
    Raise ValidationError, storing nothing, for a bad file, statement or mapping.
    """
    errors: dict[str, list[str]] = {}
    if source_kind not in IMPORTABLE_KINDS:
        errors["source_kind"] = [f"Choose one of: {', '.join(IMPORTABLE_KINDS)}."]
    if source_kind == Source.Kind.CLIENT_LIST and client is None:
        errors["client"] = ["A client-supplied list needs the client that supplied it."]
    if source_kind in PUBLIC_KINDS and not (source_url or list_name.strip()):
        errors["source_url"] = ["Name the directory or give the address of the public source."]
    if attestation.legal_basis not in LEGAL_BASES:
        errors["legal_basis"] = [f"Choose one of: {', '.join(LEGAL_BASES)}."]
    if not attestation.text.strip():
        errors["attestation"] = ["Say how the list was collected and what people were told."]
    if attestation.collected_on > timezone.localdate():
        errors["collected_on"] = ["The collection date cannot be in the future."]
    if errors:
        raise ValidationError(errors)
    layout = check_file(upload, size=upload.size)
    cleaned = clean_mapping(mapping, layout.headers) if mapping is not None else {}
    digest = _sha256(upload)
    name = (list_name.strip() or file_name)[:200]
    with transaction.atomic():
        source = get_source(
            kind=source_kind,
            name=name,
            url=source_url,
            client=client if source_kind == Source.Kind.CLIENT_LIST else None,
        )
        batch = ImportBatch(
            client=client,
            source=source,
            legal_basis=attestation.legal_basis,
            attestation=attestation.text.strip(),
            collected_on=attestation.collected_on,
            file_name=file_name[:255],
            file_size=upload.size,
            file_sha256=digest,
            file_format=layout.file_format,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            headers=layout.headers,
            mapping=cleaned,
            status=Status.QUEUED if cleaned else Status.DRAFT,
            total_rows=layout.estimated_rows,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        upload.seek(0)
        batch.file.save(f"{digest[:16]}.{layout.file_format}", upload, save=False)
        batch.save()
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CREATED,
            obj=batch,
            channel=channel,
            details={"import": "uploaded", "bytes": upload.size, "format": layout.file_format},
        )
    if cleaned:
        _queue_on_commit(batch)
    return batch


def preview(batch: ImportBatch) -> FileLayout:
    """Return the stored file's header and first rows, for the mapping step."""
    with batch.file.open("rb") as handle:
        return check_file(handle, size=batch.file_size)


def start_batch(*, batch: ImportBatch, mapping: dict[str, Any], actor: Actor) -> ImportBatch:
    """Set the mapping of a draft batch and queue it; raise ValidationError for a bad mapping."""
    if batch.status != Status.DRAFT:
        raise ValidationError("This import has already started.")
    cleaned = clean_mapping(mapping, batch.headers)
    with transaction.atomic():
        batch.mapping = cleaned
        batch.status = Status.QUEUED
        batch.save(update_fields=["mapping", "status"])
    _queue_on_commit(batch)
    return batch


def can_resume(batch: ImportBatch) -> bool:
    """Say whether the batch stopped half-way: failed, or running without a sign of life."""
    if batch.status == Status.FAILED:
        return bool(batch.file)
    if batch.status == Status.RUNNING:
        return _is_stale(batch)
    return False


def resume_batch(
    *, batch: ImportBatch, actor: Actor, channel: str, queue: bool = True
) -> ImportBatch:
    """Queue a batch that stopped half-way again; it carries on where it was.

    Raise ValidationError if it is still running or has ended for good.
    """
    if not can_resume(batch):
        raise ValidationError("Only an import that failed or stopped half-way can be resumed.")
    with transaction.atomic():
        batch.status = Status.QUEUED
        batch.error = ""
        batch.save(update_fields=["status", "error"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=batch,
            channel=channel,
            details={"import": "resumed", "rows_done": batch.rows_done},
        )
    if queue:
        _queue_on_commit(batch)
    return batch


def _queue_on_commit(batch: ImportBatch) -> None:
    # Imported here: the task module imports this one.

    # Through the outbox: with the broker away the batch waits instead of staying queued forever.
    enqueue_on_commit("crm.tasks.run_import", batch.pk)


def _sha256(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


# Running -----------------------------------------------------------------------------------------


def run_batch(*, batch_id: int, progress: Progress | None = None) -> ImportBatch:
    """Run (or carry on) a queued batch to its end; return it. Safe to call twice.

    Does nothing to a batch another worker is running, or one that has ended.
    """
    batch = _claim(batch_id)
    if batch is None:
        return ImportBatch.objects.get(pk=batch_id)
    stage = Stage(batch)
    try:
        stage.create()
        _stage_file(batch, stage, progress)
        _prepare(batch, stage)
        while _merge_chunk(batch, stage):
            if progress:
                progress(batch)
        _finish(batch, stage)
    except Exception as exc:
        # The rows merged so far stay, with the counters that say so: a resume carries on.
        batch.refresh_from_db()
        batch.status = Status.FAILED
        batch.error = type(exc).__name__[:300]
        batch.save(update_fields=["status", "error"])
        logger.exception("import batch %s failed after %d rows", batch.pk, batch.rows_done)
        raise
    if progress:
        progress(batch)
    return batch


def _claim(batch_id: int) -> ImportBatch | None:
    """Mark the batch running if it is queued (or running without a heartbeat); else None."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    claimed = ImportBatch.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale), pk=batch_id
    ).update(status=Status.RUNNING, heartbeat_at=now)
    if not claimed:
        return None
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.started_at is None:
        batch.started_at = now
        batch.save(update_fields=["started_at"])
    return batch


def _is_stale(batch: ImportBatch) -> bool:
    limit = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    return batch.heartbeat_at is None or batch.heartbeat_at < limit


def _save_progress(batch: ImportBatch, *fields: str) -> None:
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=[*fields, "heartbeat_at"])


def _stage_file(batch: ImportBatch, stage: "Stage", progress: Progress | None) -> None:
    """Stream the file into the staging table, one transaction per chunk, after what is there."""
    plan = RowPlan(batch.mapping)
    done = stage.last_row()
    if done == 1:
        # Nothing staged (first run, or PostgreSQL emptied the unlogged table after a crash).
        batch.rows_read = 0
    size = settings.IMPORT_CHUNK_ROWS
    layout = FileLayout(batch.file_format, batch.encoding, batch.delimiter, batch.headers, [], 0)
    with batch.file.open("rb") as handle:
        rows = ((number, cells) for number, cells in read_rows(handle, layout) if number > done)
        while chunk := list(islice(rows, size)):
            staged = [plan.stage(number, cells) for number, cells in chunk]
            with transaction.atomic():
                stage.write(staged)
                # Counted in the transaction that writes the rows, so it always matches them.
                batch.rows_read += len(staged)
                batch.total_rows = max(batch.total_rows, batch.rows_read)
                _save_progress(batch, "rows_read", "total_rows")
            if progress:
                progress(batch)
    batch.total_rows = batch.rows_read
    _save_progress(batch, "total_rows")


class RowPlan:
    """How one file's columns become contact fields: normalise a row for the staging table."""

    def __init__(self, mapping: dict[str, int]) -> None:
        self.columns = [mapping.get(field) for field in FIELDS]
        self.hash = stored_email_hasher()
        self.languages = {code for code, _ in settings.LANGUAGES}
        self.default_region = settings.DEFAULT_PHONE_REGION
        # A list spells its countries a few ways: look each spelling up once.
        self.countries: dict[str, str | ValidationError] = {}
        opts = Contact._meta
        self.lengths = {
            name: opts.get_field(name).max_length
            for name in ("first_name", "last_name", "job_title")
        }

    def stage(self, number: int, cells: list[str]) -> tuple:
        """Return the staging row: normalised fields, and a reason if the row is refused."""
        width = len(cells)
        (
            raw_email,
            first_name,
            last_name,
            raw_phone,
            job_title,
            company,
            company_domain,
            raw_country,
            language,
            raw_birth_date,
        ) = (
            cells[index].strip() if index is not None and index < width else ""
            for index in self.columns
        )
        reason, message = "", ""
        email = email_hash = ""
        birth_date = None
        country = phone = ""
        try:
            if not raw_email:
                raise _Refused(Reason.MISSING_FIELD, "The e-mail address is empty.")
            try:
                email = normalise_email(raw_email)
            except ValidationError as exc:
                raise _Refused(Reason.INVALID_EMAIL, exc.messages[0]) from exc
            # Hashed before the other checks: erasure finds a row refused for them by this hash.
            email_hash = self.hash(email)
            birth_date = self.birth_date(raw_birth_date)
            country = self.country(raw_country)
            if raw_phone:
                try:
                    phone = normalise_phone(raw_phone, region=country or self.default_region)
                except ValidationError as exc:
                    raise _Refused(Reason.INVALID_PHONE, exc.messages[0]) from exc
        except _Refused as refused:
            reason, message = refused.reason, refused.message
        if reason == Reason.UNDER_16:
            # We keep nothing about a child, not even in the report.
            return (number, "", "", "", "", "", "", "", "", None, "", "", reason, message, "[]")
        try:
            domain = normalise_domain(company_domain) if company_domain else ""
        except ValidationError:
            domain = ""  # a company is then matched by its name
        language = language.lower()[:2]
        return (
            number,
            email,
            email_hash,
            first_name[: self.lengths["first_name"]],
            last_name[: self.lengths["last_name"]],
            phone,
            job_title[: self.lengths["job_title"]],
            country,
            language if language in self.languages else "",
            birth_date,
            company[:200],
            domain[:253],
            reason,
            message[:300],
            json.dumps(cells, ensure_ascii=False),
        )

    def country(self, raw: str) -> str:
        """Return the country code for a code or name; refuse an unknown one."""
        found = self.countries.get(raw)
        if found is None:
            try:
                found = normalise_country(raw)
            except ValidationError as exc:
                found = exc
            if len(self.countries) < COUNTRY_MEMO_SIZE:
                self.countries[raw] = found
        if isinstance(found, ValidationError):
            raise _Refused(Reason.INVALID_COUNTRY, found.messages[0])
        return found

    @staticmethod
    def birth_date(raw: str) -> date | None:
        """Return the birth date (ISO or day-month-year); refuse an invalid one or a child's."""
        if not raw:
            return None
        parsed = None
        try:
            parsed = date.fromisoformat(raw[:10])
        except ValueError:
            for pattern in DATE_FORMATS:
                try:
                    parsed = datetime.strptime(raw, pattern).date()
                    break
                except ValueError:
                    continue
        if parsed is None:
            raise _Refused(Reason.INVALID_DATE, "Enter a valid date, like 1980-05-17.")
        try:
            return refuse_children(parsed)
        except ValidationError as exc:
            code = Reason.UNDER_16 if exc.code == "child" else Reason.INVALID_DATE
            raise _Refused(code, exc.messages[0]) from exc


class _Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason, self.message = reason, message


class Stage:
    """The batch's own staging table: unlogged on PostgreSQL, dropped when the batch ends."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.table = f"crm_import_stage_{int(batch.pk)}"
        self.postgresql = connection.vendor == "postgresql"

    def create(self) -> None:
        """Create the table unless a previous run of the batch left it."""
        unlogged = "UNLOGGED " if self.postgresql else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE {unlogged}TABLE IF NOT EXISTS {self.table} ("
                "row_number INTEGER PRIMARY KEY, email VARCHAR(254) NOT NULL, "
                "email_hash VARCHAR(64) NOT NULL, first_name VARCHAR(100) NOT NULL, "
                "last_name VARCHAR(100) NOT NULL, phone VARCHAR(32) NOT NULL, "
                "job_title VARCHAR(150) NOT NULL, country VARCHAR(2) NOT NULL, "
                "language VARCHAR(8) NOT NULL, birth_date DATE NULL, "
                "company_name VARCHAR(200) NOT NULL, company_domain VARCHAR(253) NOT NULL, "
                "reason VARCHAR(20) NOT NULL, message VARCHAR(300) NOT NULL, cells TEXT NOT NULL, "
                "company_id BIGINT NULL, contact_id BIGINT NULL, "
                "outcome VARCHAR(8) NOT NULL DEFAULT '')"
            )

    def analyze(self) -> None:
        """Give the planner the table's statistics: autovacuum may not have seen it yet."""
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.table}")

    def drop(self) -> None:
        """Drop the table."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    def write(self, rows: list[tuple]) -> None:
        """Append staged rows: by COPY on PostgreSQL, else in one executemany."""
        columns = ", ".join(STAGE_COLUMNS)
        with connection.cursor() as cursor:
            if self.postgresql:
                with cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({columns}) VALUES ({marks})",
                    [_sqlite_row(row) for row in rows],
                )

    def last_row(self) -> int:
        """Return the last row number staged (1, the header, when none is)."""
        return self.scalar(f"SELECT COALESCE(MAX(row_number), 1) FROM {self.table}")

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """Run a query and return its one value."""
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchone()[0]

    def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a statement with `{stage}` standing for the table; return the rows it touched."""
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("{stage}", self.table), list(params))
            return cursor.rowcount


def _sqlite_row(row: tuple) -> tuple:
    birth_date = row[9]
    return (*row[:9], birth_date.isoformat() if birth_date else None, *row[10:])


def _prepare(batch: ImportBatch, stage: Stage) -> None:
    """Refuse opted-out and repeated addresses and find or create companies, for the whole file.

    Rows already merged by an earlier run are left as they are; the rest is decided again the
    same way, so a resumed run reaches the result an uninterrupted one would.
    """
    merged = int(batch.last_row_merged)
    pending = f"row_number > {merged} AND reason = '' AND outcome = ''"
    blank = "email = '', email_hash = '', cells = '[]'"
    stage.analyze()
    with transaction.atomic():
        stage.execute(
            f"UPDATE {{stage}} SET reason = %s, message = %s, {blank} WHERE {pending} AND "
            "email_hash IN (SELECT email_hash FROM privacy_suppression "
            "WHERE lifted_at IS NULL AND client_id IS NULL)",
            [Reason.SUPPRESSED, "This address opted out of all contact."],
        )
        if batch.client_id is not None:
            stage.execute(
                f"UPDATE {{stage}} SET reason = %s, message = %s, {blank} WHERE {pending} AND "
                "email_hash IN (SELECT email_hash FROM privacy_suppression "
                "WHERE lifted_at IS NULL AND client_id = %s)",
                [
                    Reason.SUPPRESSED_CLIENT,
                    "This address opted out of this client's messages.",
                    batch.client_id,
                ],
            )
        stage.execute(
            f"UPDATE {{stage}} SET reason = %s, message = %s WHERE {pending} AND row_number IN ("
            "SELECT row_number FROM (SELECT row_number, ROW_NUMBER() OVER "
            "(PARTITION BY email ORDER BY row_number) AS position FROM {stage} "
            "WHERE reason = '') AS ranked WHERE position > 1)",
            [Reason.DUPLICATE, "The same address is on an earlier row of the file."],
        )
        _match_companies(stage)
        now = _db_datetime(timezone.now())
        stage.execute(
            "INSERT INTO crm_company (name, website, domain, industry, phone, address, country, "
            "registration_number, vat_number, created_at, updated_at) "
            "SELECT COALESCE(MIN(NULLIF(company_name, '')), company_domain), '', company_domain, "
            "'', '', '', '', '', '', %s, %s FROM {stage} "
            "WHERE reason = '' AND company_id IS NULL AND company_domain <> '' "
            "GROUP BY company_domain",
            [now, now],
        )
        stage.execute(
            "INSERT INTO crm_company (name, website, domain, industry, phone, address, country, "
            "registration_number, vat_number, created_at, updated_at) "
            "SELECT company_name, '', '', '', '', '', '', '', '', %s, %s FROM {stage} "
            "WHERE reason = '' AND company_id IS NULL AND company_domain = '' "
            "AND company_name <> '' GROUP BY company_name",
            [now, now],
        )
        _match_companies(stage)
        _merge_existing(stage, after_row=merged)
        _save_progress(batch)


# Filled only when blank on the existing contact: never a value someone entered or corrected.
FILLABLE_TEXT = ("first_name", "last_name", "phone", "job_title", "country", "language")
FILLABLE_NULL = ("company_id", "birth_date")


def _merge_existing(stage: Stage, *, after_row: int) -> None:
    """Match rows to existing contacts by address and fill those contacts' blank fields only.

    One pass over the rows not merged yet (after `after_row`): the contacts that a previous run of
    the batch created from earlier rows are not matched again as existing ones.
    """
    stage.execute(
        "UPDATE {stage} SET contact_id = contact.id, outcome = 'merged' "
        "FROM crm_contact AS contact WHERE contact.email = {stage}.email "
        f"AND {{stage}}.row_number > {int(after_row)} "
        "AND {stage}.reason = '' AND {stage}.outcome = ''"
    )
    fills = ", ".join(
        [
            *(
                f"{name} = CASE WHEN crm_contact.{name} = '' THEN s.{name} "
                f"ELSE crm_contact.{name} END"
                for name in FILLABLE_TEXT
            ),
            *(f"{name} = COALESCE(crm_contact.{name}, s.{name})" for name in FILLABLE_NULL),
        ]
    )
    changes = " OR ".join(
        [
            *(f"(crm_contact.{name} = '' AND s.{name} <> '')" for name in FILLABLE_TEXT),
            *(f"(crm_contact.{name} IS NULL AND s.{name} IS NOT NULL)" for name in FILLABLE_NULL),
        ]
    )
    stage.execute(
        f"UPDATE crm_contact SET {fills}, updated_at = %s FROM {{stage}} AS s "
        f"WHERE s.contact_id = crm_contact.id AND s.outcome = 'merged' AND s.row_number > "
        f"{int(after_row)} AND crm_contact.is_restricted = %s AND ({changes})",
        [_db_datetime(timezone.now()), False],
    )


def _match_companies(stage: Stage) -> None:
    """Attach rows to a company by domain, else (rows without a domain) by exact name."""
    stage.execute(
        "UPDATE {stage} SET company_id = found.id FROM (SELECT domain, MIN(id) AS id "
        "FROM crm_company WHERE domain <> '' GROUP BY domain) AS found "
        "WHERE {stage}.company_domain = found.domain AND {stage}.company_id IS NULL "
        "AND {stage}.reason = '' AND {stage}.company_domain <> ''"
    )
    stage.execute(
        "UPDATE {stage} SET company_id = found.id FROM (SELECT name, MIN(id) AS id "
        "FROM crm_company GROUP BY name) AS found "
        "WHERE {stage}.company_name = found.name AND {stage}.company_id IS NULL "
        "AND {stage}.reason = '' AND {stage}.company_domain = '' AND {stage}.company_name <> ''"
    )


def _merge_chunk(batch: ImportBatch, stage: Stage) -> bool:
    """Merge the next chunk of staged rows in one transaction; say whether there was one."""
    low = batch.last_row_merged
    high = stage.scalar(
        "SELECT MAX(row_number) FROM (SELECT row_number FROM {stage} WHERE row_number > %s "
        "ORDER BY row_number LIMIT %s) AS chunk".replace("{stage}", stage.table),
        [low, settings.IMPORT_CHUNK_ROWS],
    )
    if high is None:
        return False
    chunk = f"{{stage}}.row_number > {int(low)} AND {{stage}}.row_number <= {int(high)}"
    now = _db_datetime(timezone.now())
    with transaction.atomic():
        _insert_contacts_and_provenance(batch, stage, chunk, now)
        cells = "cells::jsonb" if stage.postgresql else "cells"
        stage.execute(
            "INSERT INTO crm_importrejection (batch_id, row_number, reason, message, cells, "
            f"email_hash, created_at) SELECT %s, row_number, reason, message, {cells}, "
            f"email_hash, %s FROM {{stage}} WHERE {chunk} AND reason <> '' "
            "ON CONFLICT DO NOTHING",
            [batch.pk, now],
        )
        _count_chunk(batch, stage, chunk)
        batch.last_row_merged = high
        _save_progress(
            batch,
            "rows_done",
            "created",
            "merged",
            "rejected",
            "rejected_by_reason",
            "last_row_merged",
        )
    return True


def _insert_contacts_and_provenance(batch: ImportBatch, stage: Stage, chunk: str, now: Any):
    """Insert the chunk's new contacts and give each created or matched one its provenance.

    A matched contact that already has provenance from the same source through a batch of the
    very same file gets none again: re-importing a file changes nothing.
    """
    new_contacts = (
        "INSERT INTO crm_contact (first_name, last_name, email, email_hash, phone, job_title, "
        "company_id, country, language, birth_date, relationship, last_activity_at, "
        "tracking_allowed, is_restricted, email_status, anonymised_at, created_at, updated_at) "
        "SELECT first_name, last_name, email, email_hash, phone, job_title, company_id, "
        "country, language, birth_date, %s, NULL, %s, %s, %s, NULL, %s, %s FROM {stage} "
        # In address order: the unique index on it is then filled page after page.
        f"WHERE {chunk} AND reason = '' AND outcome = '' ORDER BY email "
        "ON CONFLICT (email) DO NOTHING"
    )
    contact_params = [Contact.Relationship.PROSPECT, True, False, Contact.EmailStatus.VALID]
    contact_params += [now, now]
    collected_at = _db_datetime(
        timezone.make_aware(datetime.combine(batch.collected_on, datetime.min.time()))
    )
    reference = f"Import #{batch.pk}: {batch.file_name}"[:500]
    values = "%s, %s, %s, %s, NULL, %s, %s"
    if stage.postgresql:
        # Typed: in a UNION PostgreSQL cannot tell what type a parameter or NULL is.
        values = "%s::bigint, %s::timestamptz, %s::varchar, %s::integer, NULL::date, %s::bigint, "
        values += "%s::timestamptz"
    params = [batch.source_id, collected_at, reference, batch.created_by_id, batch.pk, now]
    provenance = (
        "INSERT INTO crm_contactsource (contact_id, source_id, collected_at, reference, "
        "collected_by_id, informed_at, import_batch_id, created_at) "
    )
    again, again_params = "", []
    same_file = ImportBatch.objects.filter(
        file_sha256=batch.file_sha256, source_id=batch.source_id
    ).exclude(pk=batch.pk)
    if same_file.exists():
        again = (
            "AND NOT EXISTS (SELECT 1 FROM crm_contactsource AS earlier "
            "WHERE earlier.contact_id = {stage}.contact_id AND earlier.import_batch_id IN "
            "(SELECT id FROM crm_importbatch WHERE file_sha256 = %s AND source_id = %s))"
        )
        again_params = [batch.file_sha256, batch.source_id]
    # Matched in the prepare step; a contact erased since then is left out.
    matched = (
        f"SELECT {{stage}}.contact_id, {values} FROM {{stage}} WHERE {chunk} "
        "AND {stage}.reason = '' AND {stage}.outcome = 'merged' AND EXISTS (SELECT 1 FROM "
        f"crm_contact AS kept WHERE kept.id = {{stage}}.contact_id) {again}"
    )
    if stage.postgresql:
        # One statement: the insert returns the new contacts' ids, no look-up by address.
        stage.execute(
            f"WITH created AS ({new_contacts} RETURNING id) {provenance}"
            f"SELECT id, {values} FROM created UNION ALL {matched} ON CONFLICT DO NOTHING",
            [*contact_params, *params, *params, *again_params],
        )
        return
    stage.execute(new_contacts, contact_params)
    # One index look-up per new row: a join could read the whole contact table for each chunk.
    stage.execute(
        f"{provenance}SELECT found.contact_id, {values} FROM (SELECT (SELECT contact.id "
        "FROM crm_contact AS contact WHERE contact.email = {stage}.email) AS contact_id "
        f"FROM {{stage}} WHERE {chunk} AND {{stage}}.reason = '' AND {{stage}}.outcome = '') "
        f"AS found WHERE found.contact_id IS NOT NULL UNION ALL {matched} "
        "ON CONFLICT DO NOTHING",
        [*params, *params, *again_params],
    )


def _count_chunk(batch: ImportBatch, stage: Stage, chunk: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT outcome, reason, COUNT(*) FROM {{stage}} WHERE {chunk} "
            "GROUP BY outcome, reason".replace("{stage}", stage.table)
        )
        counted = cursor.fetchall()
    by_reason = dict(batch.rejected_by_reason)
    for outcome, reason, count in counted:
        batch.rows_done += count
        if reason:
            batch.rejected += count
            by_reason[reason] = by_reason.get(reason, 0) + count
        elif outcome == "merged":
            batch.merged += count
        else:  # inserted by this chunk's transaction
            batch.created += count
    batch.rejected_by_reason = by_reason


def _finish(batch: ImportBatch, stage: Stage) -> None:
    """Mark the batch completed and audit its counts; delete the file and the staging table."""
    with transaction.atomic():
        batch.status = Status.COMPLETED
        batch.finished_at = timezone.now()
        _discard_file(batch)
        _save_progress(batch, "status", "finished_at", "file")
        record_audit(
            actor=batch.created_by,
            action=AuditEvent.Action.CHANGED,
            obj=batch,
            channel="task",
            details={"import": "completed", **counts(batch)},
        )
    stage.drop()
    logger.info("import batch %s completed: %s", batch.pk, counts(batch))


def _discard_file(batch: ImportBatch) -> None:
    """Delete the uploaded file once the transaction commits (data minimisation)."""
    if batch.file:
        name, storage = batch.file.name, batch.file.storage
        transaction.on_commit(lambda: storage.delete(name))
        batch.file = ""


def counts(batch: ImportBatch) -> dict[str, Any]:
    """Return the batch's counts: rows, created, merged, rejected by reason. Never the data."""
    return {
        "rows": batch.total_rows,
        "created": batch.created,
        "merged": batch.merged,
        "rejected": batch.rejected,
        "rejected_by_reason": dict(batch.rejected_by_reason),
    }


def discard_unfinished(*, older_than: timedelta | None = None) -> int:
    """Discard drafts and failed batches left longer than IMPORT_UNFINISHED_HOURS; say how many.

    Their file and staging table go; what a failed batch merged stays, with its provenance.
    """
    age = older_than or timedelta(hours=settings.IMPORT_UNFINISHED_HOURS)
    cutoff = timezone.now() - age
    left = ImportBatch.objects.filter(
        Q(status=Status.DRAFT) | Q(status=Status.FAILED), created_at__lt=cutoff
    )
    discarded = 0
    for batch in left:
        with transaction.atomic():
            batch.status = Status.DISCARDED
            batch.finished_at = timezone.now()
            _discard_file(batch)
            batch.save(update_fields=["status", "finished_at", "file"])
            record_audit(
                actor=None,
                action=AuditEvent.Action.CHANGED,
                obj=batch,
                channel="task",
                details={"import": "discarded", **counts(batch)},
            )
        Stage(batch).drop()
        discarded += 1
    return discarded


def _db_datetime(moment: datetime) -> Any:
    """Return a datetime as the database driver takes it in raw SQL (text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)


# Report ------------------------------------------------------------------------------------------


def write_report(*, batch: ImportBatch, out: Writable, actor: Actor, channel: str) -> int:
    """Write the rejected rows as CSV (formulas neutralised) and audit the download; say how many.

    Columns: the row number, the reason, the message, then the file's own columns.
    """
    writer = csv.writer(out)
    writer.writerow(
        [neutralise_formula(cell) for cell in ["row", "reason", "message", *batch.headers]]
    )
    written = 0
    rows = batch.rejections.order_by("row_number").values_list(
        "row_number", "reason", "message", "cells"
    )
    labels = dict(Reason.choices)
    for number, reason, message, cells in rows.iterator(chunk_size=2000):
        values = [str(number), labels.get(reason, reason), message, *(cells or [])]
        writer.writerow([neutralise_formula(str(value)) for value in values])
        written += 1
    record_audit(
        actor=actor,
        action=AuditEvent.Action.EXPORTED,
        obj=batch,
        channel=channel,
        details={"import_report": written},
    )
    return written
