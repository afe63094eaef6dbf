"""The set-based merge of a staged list: decide every row in SQL, then merge them all at once.

*Prepare*, over the rows not merged yet, in one transaction: rows whose address opted out,
globally or for this client, are refused and keep no values; later rows repeating an address are
refused as duplicates; companies are matched by domain, else by exact name, and missing ones
created; rows matching an existing contact by normalised address fill only that contact's blank
fields (never a value staff or anyone else entered, never a restricted person's record).

*Merge*, in one transaction over the whole staging table, one statement per table: the other
valid rows are inserted as contacts; provenance and the rejected rows are written, and the
batch's counters, the last row merged and its step move in the same transaction.
"""

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from crm.imports.rows import NO_CELLS
from crm.imports.staging import Stage, save_progress
from crm.models import Company, Contact, ImportBatch, ImportRejection
from crm.suppression import active_suppressions

Reason = ImportRejection.Reason


def prepare(*, batch: ImportBatch, stage: Stage) -> None:
    """Refuse opted-out and repeated addresses and find or create companies, for the whole file.

    Rows already merged by an earlier run are left as they are; the rest is decided again the
    same way, so a resumed run reaches the result an uninterrupted one would. The batch's step
    becomes `prepared` in the same transaction.
    """
    merged = int(batch.last_row_merged)
    pending = f"row_number > {merged} AND reason = '' AND outcome = ''"
    blank = "email = '', email_hash = '', cells = '[]'"
    stage.analyze()
    with transaction.atomic():
        _refuse_suppressed(batch, stage, pending=pending, blank=blank)
        # Only a row that kept its cells can repeat an earlier one (crm.imports.rows): only the
        # addresses of those few are ranked, rather than the whole table sorted by address.
        stage.execute(
            f"UPDATE {{stage}} SET reason = %s, message = %s WHERE {pending} AND row_number IN ("
            "SELECT row_number FROM (SELECT row_number, ROW_NUMBER() OVER "
            "(PARTITION BY email ORDER BY row_number) AS position FROM {stage} "
            "WHERE reason = '' AND email IN (SELECT email FROM {stage} AS kept "
            "WHERE kept.reason = '' AND kept.cells <> %s)) AS ranked WHERE position > 1)",
            [Reason.DUPLICATE, "The same address is on an earlier row of the file.", NO_CELLS],
        )
        _create_companies(stage)
        _match_companies(stage)
        _merge_existing(stage, after_row=merged)
        batch.step = ImportBatch.Step.PREPARED
        save_progress(batch, "step")


def _refuse_suppressed(batch: ImportBatch, stage: Stage, *, pending: str, blank: str) -> None:
    """Refuse the pending rows whose address opted out, globally or for the batch's client.

    One pass over the table: the client's suppressions include the global ones, which are the
    reason given when an address is in both.
    """
    everyone, everyone_params = _suppressed_hashes(client=None)
    globally = [Reason.SUPPRESSED, "This address opted out of all contact."]
    if batch.client_id is None:
        stage.execute(
            f"UPDATE {{stage}} SET reason = %s, message = %s, {blank} "
            f"WHERE {pending} AND email_hash IN ({everyone})",
            [*globally, *everyone_params],
        )
        return
    client, client_params = _suppressed_hashes(client=batch.client_id)
    for_client = [Reason.SUPPRESSED_CLIENT, "This address opted out of this client's messages."]
    which = f"CASE WHEN email_hash IN ({everyone}) THEN %s ELSE %s END"
    stage.execute(
        f"UPDATE {{stage}} SET reason = {which}, message = {which}, {blank} "
        f"WHERE {pending} AND email_hash IN ({client})",
        [
            *everyone_params,
            globally[0],
            for_client[0],
            *everyone_params,
            globally[1],
            for_client[1],
            *client_params,
        ],
    )


def _suppressed_hashes(*, client: int | None) -> tuple[str, tuple[Any, ...]]:
    """Return the SQL of the hashes suppressed for `client`, and its parameters."""
    hashes = active_suppressions(client=client).order_by().values("email_hash")
    return hashes.query.sql_with_params()


def _create_companies(stage: Stage) -> None:
    """Create the companies rows name that none matches: one per domain, else per exact name."""
    company = connection.ops.quote_name(Company._meta.db_table)
    # A company known only by its domain is named after it, cut to the name's column.
    name_length = int(Company._meta.get_field("name").max_length)
    insert, params = _company_insert(
        name=f"COALESCE(MIN(NULLIF(company_name, '')), SUBSTR(company_domain, 1, {name_length}))",
        domain="company_domain",
    )
    stage.execute(
        f"{insert} FROM {{stage}} WHERE reason = '' AND company_id IS NULL "
        f"AND company_domain <> '' AND NOT EXISTS (SELECT 1 FROM {company} AS known "
        "WHERE known.domain = {stage}.company_domain) GROUP BY company_domain",
        params,
    )
    insert, params = _company_insert(name="company_name", domain="''")
    stage.execute(
        f"{insert} FROM {{stage}} WHERE reason = '' AND company_id IS NULL "
        "AND company_domain = '' AND company_name <> '' AND NOT EXISTS (SELECT 1 FROM "
        f"{company} AS known WHERE known.name = {{stage}}.company_name) GROUP BY company_name",
        params,
    )


def _company_insert(**selected: str) -> tuple[str, list[Any]]:
    """Return the INSERT ... SELECT of a company from `selected` SQL expressions, and its params.

    The other columns get the model's defaults, and the timestamps the time of the import.
    """
    now = _db_datetime(timezone.now())
    columns, values, params = [], [], []
    for field in Company._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in selected:
            values.append(selected[field.name])
            continue
        values.append("%s")
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            params.append(now)
        else:
            params.append(field.get_db_prep_save(field.get_default(), connection))
    table = connection.ops.quote_name(Company._meta.db_table)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)}", params


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
    company = connection.ops.quote_name(Company._meta.db_table)
    stage.execute(
        "UPDATE {stage} SET company_id = found.id FROM (SELECT domain, MIN(id) AS id "
        f"FROM {company} WHERE domain <> '' GROUP BY domain) AS found "
        "WHERE {stage}.company_domain = found.domain AND {stage}.company_id IS NULL "
        "AND {stage}.reason = '' AND {stage}.company_domain <> ''"
    )
    stage.execute(
        "UPDATE {stage} SET company_id = found.id FROM (SELECT name, MIN(id) AS id "
        f"FROM {company} GROUP BY name) AS found "
        "WHERE {stage}.company_name = found.name AND {stage}.company_id IS NULL "
        "AND {stage}.reason = '' AND {stage}.company_domain = '' AND {stage}.company_name <> ''"
    )


def merge(*, batch: ImportBatch, stage: Stage) -> None:
    """Merge every staged row not merged yet in one transaction, with the batch's counters.

    One statement per table over the whole staging table; the batch's step becomes `merged` in
    the same transaction, so a run killed half-way left nothing of it and merges again.
    """
    rows = f"{{stage}}.row_number > {int(batch.last_row_merged)}"
    now = _db_datetime(timezone.now())
    with transaction.atomic():
        _insert_contacts_and_provenance(batch, stage, rows, now)
        cells = "cells::jsonb" if stage.postgresql else "cells"
        stage.execute(
            "INSERT INTO crm_importrejection (batch_id, row_number, reason, message, cells, "
            f"email_hash, created_at) SELECT %s, row_number, reason, message, {cells}, "
            f"email_hash, %s FROM {{stage}} WHERE {rows} AND reason <> '' "
            "ON CONFLICT DO NOTHING",
            [batch.pk, now],
        )
        _count_rows(batch, stage, rows)
        batch.last_row_merged = max(batch.last_row_merged, stage.last_row())
        batch.step = ImportBatch.Step.MERGED
        save_progress(
            batch,
            "rows_done",
            "created",
            "merged",
            "rejected",
            "rejected_by_reason",
            "last_row_merged",
            "step",
        )


def _insert_contacts_and_provenance(batch: ImportBatch, stage: Stage, rows: str, now: Any):
    """Insert the rows' new contacts and give each created or matched one its provenance.

    A matched contact that already has provenance from the same source through a batch of the
    very same file gets none again: re-importing a file changes nothing.
    """
    new_contacts = (
        "INSERT INTO crm_contact (first_name, last_name, email, email_hash, phone, job_title, "
        "company_id, country, language, birth_date, relationship, last_activity_at, "
        "is_restricted, email_status, anonymised_at, created_at, updated_at) "
        "SELECT first_name, last_name, email, email_hash, phone, job_title, company_id, "
        "country, language, birth_date, %s, NULL, %s, %s, NULL, %s, %s FROM {stage} "
        # In address order: the unique index on it is then filled page after page.
        f"WHERE {rows} AND reason = '' AND outcome = '' ORDER BY email "
        "ON CONFLICT (email) DO NOTHING"
    )
    contact_params = [Contact.Relationship.PROSPECT, False, Contact.EmailStatus.VALID]
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
        f"SELECT {{stage}}.contact_id, {values} FROM {{stage}} WHERE {rows} "
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
    # One index look-up per new row, rather than a join that reads the whole contact table.
    stage.execute(
        f"{provenance}SELECT found.contact_id, {values} FROM (SELECT (SELECT contact.id "
        "FROM crm_contact AS contact WHERE contact.email = {stage}.email) AS contact_id "
        f"FROM {{stage}} WHERE {rows} AND {{stage}}.reason = '' AND {{stage}}.outcome = '') "
        f"AS found WHERE found.contact_id IS NOT NULL UNION ALL {matched} "
        "ON CONFLICT DO NOTHING",
        [*params, *params, *again_params],
    )


def _count_rows(batch: ImportBatch, stage: Stage, rows: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT outcome, reason, COUNT(*) FROM {{stage}} WHERE {rows} "
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
        else:  # inserted by this transaction
            batch.created += count
    batch.rejected_by_reason = by_reason


def _db_datetime(moment: datetime) -> Any:
    """Return a datetime as the database driver takes it in raw SQL (text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)
