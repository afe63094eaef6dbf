"""Access and portability exports (GDPR art. 15 and 20), driven by the personal-data registry.

Every declared model's rows of the person go into one zip: `data.json`, machine-readable, one key
per table with its description and rows, and `index.html`, the same data readable in a browser.
Rows are streamed into the zip in chunks, so a person with a hundred thousand events does not need
a hundred thousand objects in memory. The zip is stored outside the web root and handed out
through a signed link that expires (`EXPORT_LINK_MAX_AGE_DAYS`); each download is audited.
"""

import json
import re
import shutil
import tempfile
import uuid
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from core.registry import Declaration, registry
from core.storage import private_storage
from crm.models import Contact
from privacy.links import InvalidLink, read_download_token
from privacy.models import SubjectExport, SubjectRequest
from privacy.requests.export_sql import builds_in_database, database_rows, export_fields

CHUNK = 2000
# zlib's level 3 compresses a large export twice as fast as the default 6, for a zip about a fifth
# larger; the files inside are the same.
COMPRESSION = 3
# Chunks handed to the writing thread and not yet written: it compresses while the database
# builds the next rows (zlib and file writes let the other thread run).
WRITES_AHEAD = 4


class ExportUnavailable(Exception):
    """The link is not genuine, has expired, or its export was removed."""


class ExportExpired(ExportUnavailable):
    """The link is genuine, but its export expired or was removed."""


class ExportForbidden(Exception):
    """A member of staff whose role may not handle exports followed a requester's link."""


# The zip holds invoices, disclosures and breaches: only roles that handle exports may open one.
HANDLE_EXPORTS = "privacy.view_subjectexport"
# Where a download link sits in a request's result, for staff who may not follow it.
DOWNLOAD_LINK = re.compile(r"\S*/privacy/requests/download/\S+")


def may_handle_exports(user: Actor) -> bool:
    """Whether a member of staff may see and follow a requester's export link."""
    return user is not None and user.is_authenticated and user.has_perm(HANDLE_EXPORTS)


def hide_download_links(text: str) -> str:
    """Return a request's result with its export links replaced by a note, for other roles."""
    return DOWNLOAD_LINK.sub("[download link: shown to the privacy officer only]", text)


def _plain(value: Any) -> Any:
    """Return a value as JSON has it: dates in ISO 8601, decimals and the rest as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def export_rows(declaration: Declaration, contact_ids: list[int]) -> Iterator[dict]:
    """Yield the person's rows of one model as export dicts, reading plain column values.

    Related rows (a purpose, a source, a notice version) are shown by their name, looked up once
    per export for each distinct id rather than once per row: building a hundred thousand model
    instances is what made large exports slow.
    """
    fields = export_fields(declaration)
    names = [f.name for f in fields]
    columns = [f.attname if f.is_relation else f.name for f in fields]
    related = {f.name: f.related_model for f in fields if f.is_relation and f.many_to_one}
    labels: dict[str, dict[Any, str]] = {name: {} for name in related}
    queryset = declaration.rows_for(contact_ids=contact_ids).order_by("pk").values_list(*columns)
    chunk: list[tuple] = []
    for values in queryset.iterator(chunk_size=CHUNK):
        chunk.append(values)
        if len(chunk) == CHUNK:
            yield from _chunk_rows(chunk, names, related, labels)
            chunk = []
    yield from _chunk_rows(chunk, names, related, labels)


def _chunk_rows(chunk, names, related, labels) -> Iterator[dict]:
    for name, model in related.items():
        position = names.index(name)
        missing = {row[position] for row in chunk} - labels[name].keys() - {None}
        if missing:
            found = model._base_manager.in_bulk(missing)
            labels[name].update({pk: str(obj) for pk, obj in found.items()})
    for values in chunk:
        row = {}
        for name, value in zip(names, values, strict=True):
            if name in related:
                row[name] = None if value is None else labels[name].get(value, str(value))
            else:
                row[name] = _plain(value)
        yield row


def page_row(row: dict) -> str:
    """Return a row's `<tr>` of the readable page: each value as text, HTML-escaped."""
    return "<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in row.values()) + "</tr>"


def table_rows(
    declaration: Declaration, contact_ids: list[int], *, in_database: bool = True
) -> Iterator[tuple[str, str]]:
    """Yield each of the person's rows of one model as its JSON text and its row of the page.

    PostgreSQL builds both itself (`privacy.requests.export_sql`); elsewhere, for a table with a
    field it cannot write the same way, or without `in_database`, Python builds them from the
    read values.
    """
    if in_database and builds_in_database(declaration, declaration.model._base_manager.db):
        yield from database_rows(declaration, contact_ids)
    else:
        for row in export_rows(declaration, contact_ids):
            yield json.dumps(row), page_row(row)


def write_archive(
    archive: zipfile.ZipFile, contact: Contact, *, generated: datetime, in_database: bool = True
) -> int:
    """Stream data.json into the archive and index.html beside it, reading each table once.

    Return the rows written. `in_database=False` builds every table in Python, as SQLite does.
    Both files are written by one thread of their own, in the order given, so compressing one
    chunk overlaps with reading the next.
    """
    total = 0
    with tempfile.TemporaryFile() as html_file, ThreadPoolExecutor(max_workers=1) as writer:
        raw = archive.open("data.json", "w")
        pending: deque[Future] = deque()

        def write(out, text: str) -> None:
            pending.append(writer.submit(out.write, text.encode()))
            while len(pending) > WRITES_AHEAD:
                pending.popleft().result()

        def put(text: str) -> None:
            write(raw, text)

        def page(text: str) -> None:
            write(html_file, text)

        header = {"generated_at": generated.isoformat(), "subject": {"id": contact.pk}}
        put(json.dumps(header)[:-1] + ', "tables": {')
        # The readable page is in the requester's language (the caller activates it); data.json
        # stays in English, with the field names, for the machines that read it.
        title = escape(gettext("Your personal data"))
        nothing = escape(gettext("Nothing."))
        made = gettext("Made on %(date)s. The same data, machine-readable, is in data.json.") % {
            "date": formats.date_format(timezone.localtime(generated), "DATETIME_FORMAT")
        }
        page(
            f"<!doctype html><html lang='{escape(get_language() or 'en')}'><head>"
            f"<meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><p>{escape(made)}</p>"
        )
        for index, declaration in enumerate(registry):
            meta = json.dumps(
                {"category": declaration.category, "description": declaration.description}
            )
            put(("," if index else "") + json.dumps(declaration.label) + ": " + meta[:-1])
            put(', "rows": [')
            page(f"<h2>{escape(gettext(declaration.description))}</h2>")
            rows = table_rows(declaration, [contact.pk], in_database=in_database)
            columns = [field.name for field in export_fields(declaration)]
            count = 0
            # Written a chunk at a time: one write per row was a good part of the export's time.
            for texts, lines in _chunks(rows):
                if count == 0:
                    page("<table border='1'><tr>")
                    page("".join(f"<th scope='col'>{escape(c)}</th>" for c in columns))
                    page("</tr>")
                put(("," if count else "") + ",".join(texts))
                page("".join(lines))
                count += len(texts)
            total += count
            put("]}")
            page("</table>" if count else f"<p>{nothing}</p>")
        put("}}")
        page("</body></html>")
        while pending:
            pending.popleft().result()
        raw.close()  # a zip takes one entry at a time: data.json is done before index.html
        html_file.seek(0)
        with archive.open("index.html", "w") as html_entry:
            shutil.copyfileobj(html_file, html_entry)
    return total


def _chunks(rows: Iterator[tuple[str, str]]) -> Iterator[tuple[list[str], list[str]]]:
    """Group the rows' JSON texts and page rows in lists of up to CHUNK rows."""
    texts: list[str] = []
    lines: list[str] = []
    for text, line in rows:
        texts.append(text)
        lines.append(line)
        if len(texts) == CHUNK:
            yield texts, lines
            texts, lines = [], []
    if texts:
        yield texts, lines


def export_subject(
    *, contact: Contact, requested_by: Actor, channel: str, request: SubjectRequest | None = None
) -> SubjectExport:
    """Write the person's zip from the registry, store it privately, and audit the export."""
    storage = private_storage()
    name = storage.generate_filename(f"exports/{uuid.uuid4().hex}.zip")
    path = Path(storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION) as archive:
            rows = write_archive(archive, contact, generated=timezone.now())
    except BaseException:
        # A half-written copy of someone's data must not stay behind.
        path.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        export = SubjectExport.objects.create(
            request=request,
            contact=contact,
            file=name,
            rows=rows,
            expires_at=timezone.now() + timedelta(days=settings.EXPORT_LINK_MAX_AGE_DAYS),
        )
        record_audit(
            actor=requested_by,
            action=AuditEvent.Action.EXPORTED,
            obj=contact,
            channel=channel,
            details={"export": export.pk, "rows": rows},
        )
    return export


def open_export(*, token: str, staff: Actor = None) -> SubjectExport:
    """Return the export a link points to, counting and auditing the download.

    A download by a member of staff (`staff`, logged in) is theirs, not the requester's: it is
    refused unless their role handles exports, audited under their name, and not counted as
    the requester's download.
    """
    if staff is not None and not may_handle_exports(staff):
        raise ExportForbidden
    try:
        export_id = read_download_token(token)
    except InvalidLink as exc:
        raise ExportUnavailable from exc
    export = SubjectExport.objects.filter(pk=export_id, expires_at__gt=timezone.now()).first()
    if export is None or not export.file or not export.file.storage.exists(export.file.name):
        raise ExportExpired
    with transaction.atomic():
        if staff is None:
            SubjectExport.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1)
        record_audit(
            actor=staff,
            action=AuditEvent.Action.VIEWED,
            obj=export,
            channel="public" if staff is None else "admin",
            details={"download": True, "by_staff": staff is not None},
        )
    return export
