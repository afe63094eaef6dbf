"""Access and portability exports (GDPR art. 15 and 20), driven by the personal-data registry.

Every declared model's rows of the person go into one zip: `data.json`, machine-readable, one key
per table with its description and rows, and `index.html`, the same data readable in a browser.
Rows are streamed into the zip in chunks, so a person with a hundred thousand events does not need
a hundred thousand objects in memory. The zip is stored outside the web root and handed out
through a signed link that expires (`EXPORT_LINK_MAX_AGE_DAYS`); each download is audited.
"""

import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from html import escape
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from crm.contacts import Actor
from crm.models import Contact
from privacy.audit import record_audit
from privacy.models import AuditEvent, SubjectExport, SubjectRequest, private_storage
from privacy.registry import Declaration, registry

DOWNLOAD_SALT = "privacy.export-download"
CHUNK = 2000


class ExportUnavailable(Exception):
    """The link is not genuine, has expired, or its export was removed."""


def _rows(declaration: Declaration, contact_ids: list[int]) -> Iterator[dict]:
    queryset = declaration.rows_for(contact_ids=contact_ids).order_by("pk")
    # The exported foreign keys (purpose, source, notice…) come joined, not one query per row.
    exported = {*declaration.fields, *declaration.export_fields}
    related = [
        f.name
        for f in declaration.model._meta.concrete_fields
        if f.is_relation and f.name in exported
    ]
    for row in queryset.select_related(*related).iterator(chunk_size=CHUNK):
        yield declaration.export(row)


def _write_json(archive: zipfile.ZipFile, contact: Contact) -> int:
    """Stream data.json into the archive; return the number of rows written."""
    total = 0
    with archive.open("data.json", "w") as raw:

        def put(text: str) -> None:
            raw.write(text.encode())

        header = {"generated_at": timezone.now().isoformat(), "subject": {"id": contact.pk}}
        put(json.dumps(header)[:-1] + ', "tables": {')
        for index, declaration in enumerate(registry):
            meta = json.dumps(
                {"category": declaration.category, "description": declaration.description}
            )
            put(("," if index else "") + json.dumps(declaration.label) + ": " + meta[:-1])
            put(', "rows": [')
            for position, row in enumerate(_rows(declaration, [contact.pk])):
                put(("," if position else "") + json.dumps(row, default=str))
                total += 1
            put("]}")
        put("}}")
    return total


def _write_html(archive: zipfile.ZipFile, contact: Contact) -> None:
    """Stream index.html, one table per kind of data, into the archive."""
    with archive.open("index.html", "w") as raw:

        def put(text: str) -> None:
            raw.write(text.encode())

        put(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Your personal data</title></head><body>"
            f"<h1>Your personal data</h1><p>Made on {timezone.now():%d %B %Y %H:%M %Z}. "
            "The same data, machine-readable, is in data.json.</p>"
        )
        for declaration in registry:
            put(f"<h2>{escape(declaration.description)}</h2>")
            columns: list[str] | None = None
            for row in _rows(declaration, [contact.pk]):
                if columns is None:
                    columns = list(row)
                    put("<table border='1'><tr>")
                    put("".join(f"<th scope='col'>{escape(c)}</th>" for c in columns))
                    put("</tr>")
                put("<tr>" + "".join(f"<td>{escape(str(row[c]))}</td>" for c in columns) + "</tr>")
            put("</table>" if columns is not None else "<p>Nothing.</p>")
        put("</body></html>")


def export_subject(
    *, contact: Contact, requested_by: Actor, channel: str, request: SubjectRequest | None = None
) -> SubjectExport:
    """Write the person's zip from the registry, store it privately, and audit the export."""
    storage = private_storage()
    name = storage.generate_filename(f"exports/{uuid.uuid4().hex}.zip")
    path = Path(storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        rows = _write_json(archive, contact)
        _write_html(archive, contact)
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


def download_url(export: SubjectExport) -> str:
    """Return the absolute, signed link to download the export until it expires."""
    token = signing.dumps(export.pk, salt=DOWNLOAD_SALT)
    return f"{settings.SITE_URL}{reverse('privacy-export-download', args=[token])}"


def open_export(*, token: str) -> SubjectExport:
    """Return the export a link points to, counting and auditing the download."""
    try:
        export_id = int(signing.loads(token, salt=DOWNLOAD_SALT))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise ExportUnavailable from exc
    export = SubjectExport.objects.filter(pk=export_id, expires_at__gt=timezone.now()).first()
    if export is None or not export.file or not export.file.storage.exists(export.file.name):
        raise ExportUnavailable
    with transaction.atomic():
        SubjectExport.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1)
        record_audit(
            actor=None,
            action=AuditEvent.Action.VIEWED,
            obj=export,
            channel="public",
            details={"download": True},
        )
    return export
