"""Bulk export of contacts to CSV: a reason is required, every export is audited (art. 5(2)).

Only staff with `crm.export_contacts` may call it (the admin action checks). One audit event is
written per export, with the reason, the number of contacts and their ids; the values exported
never go into the audit trail. Cells a spreadsheet would read as a formula are neutralised with a
leading apostrophe (CSV injection), since names and companies come from forms and imported lists.
"""

import csv
from collections.abc import Iterable
from typing import Protocol

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.actors import Actor
from core.models import AuditEvent
from crm.models import Contact

COLUMNS = (
    "id",
    "first name",
    "last name",
    "e-mail",
    "phone",
    "company",
    "country",
    "relationship",
    "created",
)
# Characters that make Excel, LibreOffice or Google Sheets evaluate a cell (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORTED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company__name",
    "country",
    "relationship",
    "created_at",
)
REASON_MAX_LENGTH = AuditEvent._meta.get_field("reason").max_length
CHUNK_SIZE = 2000


class Writable(Protocol):
    """Anything with a text `write`: an HttpResponse, a file, a StringIO."""

    def write(self, text: str, /) -> object: ...


def neutralise_formula(value: str) -> str:
    """Return `value` with a leading apostrophe if a spreadsheet would run it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def contact_row(contact: Contact) -> list[str]:
    """Return one contact's CSV cells, in the order of COLUMNS, formulas neutralised."""
    cells = [
        str(contact.pk),
        contact.first_name,
        contact.last_name,
        contact.email or "",
        contact.phone,
        contact.company.name if contact.company else "",
        contact.country.code or "",
        contact.relationship,
        timezone.localtime(contact.created_at).isoformat(timespec="seconds"),
    ]
    return [neutralise_formula(cell) for cell in cells]


def clean_reason(reason: str) -> str:
    """Return the reason stripped; raise ValidationError if it is empty or too long."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why these contacts are exported."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX_LENGTH} characters."})
    return reason


def export_contacts_csv(
    *,
    contacts: QuerySet[Contact],
    actor: Actor,
    reason: str,
    out: Writable,
    channel: str = "admin",
) -> AuditEvent:
    """Write the contacts as CSV to `out` and record one audit event with the reason and ids.

    Raise ValidationError, writing nothing, when the reason is missing.
    """
    reason = clean_reason(reason)
    writer = csv.writer(out)
    rows = contacts.select_related("company").only(*EXPORTED_FIELDS).order_by("pk")
    with transaction.atomic():
        writer.writerow(COLUMNS)
        ids = _write_rows(writer, rows.iterator(chunk_size=CHUNK_SIZE))
        return AuditEvent.objects.create(
            actor=actor if actor is not None and actor.is_authenticated else None,
            action=AuditEvent.Action.EXPORTED,
            # Many contacts, one event: the type says what was exported, the ids which ones.
            object_type=ContentType.objects.get_for_model(Contact),
            object_id="",
            channel=channel,
            reason=reason,
            details={"format": "csv", "count": len(ids), "ids": ids},
        )


def _write_rows(writer, contacts: Iterable[Contact]) -> list[int]:
    ids = []
    for contact in contacts:
        writer.writerow(contact_row(contact))
        ids.append(contact.pk)
    return ids
