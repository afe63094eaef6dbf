"""The record of processing (GDPR art. 30(1)), the processor register, and disclosures.

The privacy officer keeps both registers as rows in the admin; the public privacy page renders them
(`public_activities`, `processor_register`), so the statement can never drift from the register,
and `export_register` turns them into a document: one readable HTML page with both registers, or
one CSV file per register so each opens in a spreadsheet with its own header row. Every export is
audited. A transfer outside the EU needs a safeguard (art. 44-46): `check_transfer` refuses one
without in the admin, and `privacy_check` counts any that got in another way. Disclosures to
authorities (art. 6(1)(c)) are saved and audited by `save_disclosure`.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.db.models.functions import Trim
from django.template import engines
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.exports_csv import neutralise_formula
from privacy.models import Disclosure, ProcessingActivity, Processor

NO_SAFEGUARD = (
    "Data leaves the EU here: name the safeguard for the transfer (an adequacy decision, "
    "standard contractual clauses or binding corporate rules, GDPR art. 45-46), or untick "
    "“{flag}”."
)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): the
# leading apostrophe makes it text. Tab and carriage return are on OWASP's list as well.


def check_transfer(*, outside_eu: bool, safeguard: str, flag: str, field: str) -> None:
    """Raise a ValidationError on `field` when data leaves the EU without a safeguard."""
    if outside_eu and not safeguard.strip():
        raise ValidationError({field: NO_SAFEGUARD.format(flag=flag)})


def without_safeguard(queryset: QuerySet, *, flag: str, safeguard: str) -> QuerySet:
    """Narrow `queryset` to rows whose `flag` says outside the EU and whose `safeguard` is blank."""
    return (
        queryset.filter(**{flag: True})
        .annotate(safeguard_given=Trim(safeguard))
        .filter(safeguard_given="")
    )


def processors_without_safeguard() -> QuerySet[Processor]:
    """Return processors outside the EU whose transfer names no safeguard."""
    return without_safeguard(Processor.objects.all(), flag="outside_eu", safeguard="safeguard")


def activities_without_safeguard() -> QuerySet[ProcessingActivity]:
    """Return processing activities with a transfer outside the EU that names no safeguard."""
    return without_safeguard(
        ProcessingActivity.objects.all(),
        flag="transfer_outside_eu",
        safeguard="transfer_safeguard",
    )


def public_activities() -> QuerySet[ProcessingActivity]:
    """Return the activities the public privacy page shows, with their purposes."""
    return ProcessingActivity.objects.filter(is_public=True).prefetch_related("purposes")


def processor_register() -> QuerySet[Processor]:
    """Return every processor: the public page and the exports show them all."""
    return Processor.objects.all()


def purposes_text(activity: ProcessingActivity) -> str:
    """Return the activity's purposes with their legal bases, on one line."""
    return "; ".join(f"{p.name}: {p.get_legal_basis_display()}" for p in activity.purposes.all())


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _day(value: date | datetime | None) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.isoformat() if value else ""


Column = tuple[str, Callable[[models.Model], str]]

ACTIVITY_COLUMNS: tuple[Column, ...] = (
    ("activity", lambda a: a.name),
    ("purposes (legal basis)", purposes_text),
    ("data subjects", lambda a: a.data_subjects),
    ("data", lambda a: a.data_categories),
    ("recipients", lambda a: a.recipients),
    ("storage", lambda a: a.storage),
    ("retention", lambda a: a.retention),
    ("access", lambda a: a.access),
    ("transfer outside the EU", lambda a: _yes_no(a.transfer_outside_eu)),
    ("transfer country", lambda a: a.transfer_country),
    ("transfer safeguard", lambda a: a.transfer_safeguard),
    ("on the public page", lambda a: _yes_no(a.is_public)),
    ("last changed", lambda a: _day(a.updated_at)),
)
PROCESSOR_COLUMNS: tuple[Column, ...] = (
    ("processor", lambda p: p.name),
    ("service", lambda p: p.service),
    ("data shared", lambda p: p.data_shared),
    ("location", lambda p: p.location),
    ("outside the EU", lambda p: _yes_no(p.outside_eu)),
    ("safeguard", lambda p: p.safeguard),
    ("agreement signed on", lambda p: _day(p.agreement_signed_on)),
    ("website", lambda p: p.website),
    ("last changed", lambda p: _day(p.updated_at)),
)


def _csv(columns: Iterable[Column], rows: Iterable[models.Model]) -> str:
    columns = tuple(columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in columns])
    for row in rows:
        writer.writerow([neutralise_formula(value(row)) for _, value in columns])
    return out.getvalue()


REGISTER_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Record of processing activities and processor register</title>
<style>
body { font: 11pt/1.45 system-ui, sans-serif; color: #1d2433; margin: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border: 1px solid #c9cfdb; }
thead th { background: #eef1f6; }
.missing { color: #a4001d; font-weight: 700; }
.meta { color: #5b6577; }
@media print { body { margin: 0; } thead { display: table-header-group; } }
</style>
</head>
<body>
<h1>Record of processing activities and processor register</h1>
<p class="meta">GDPR art. 30(1). Exported on {{ exported_at|date:"j F Y, H:i" }};
{{ activities|length }} processing activit{{ activities|length|pluralize:"y,ies" }},
{{ processors|length }} processor{{ processors|length|pluralize }}.</p>
{% for table in tables %}
<h2>{{ table.title }}</h2>
<table>
<thead><tr>
{% for header in table.headers %}<th scope="col">{{ header|capfirst }}</th>{% endfor %}
</tr></thead>
<tbody>
{% for row in table.rows %}<tr>
{% for cell in row %}{% if forloop.first %}<th scope="row">{{ cell }}</th>
{% else %}<td>{{ cell|linebreaksbr }}</td>{% endif %}{% endfor %}
</tr>
{% empty %}<tr><td colspan="{{ table.headers|length }}">{{ table.empty }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endfor %}
{% if missing %}
<p class="missing">Transfers outside the EU without a safeguard: {{ missing|join:", " }}.</p>
{% endif %}
</body>
</html>
"""


def _register_html() -> str:
    activities = list(ProcessingActivity.objects.prefetch_related("purposes"))
    processors = list(Processor.objects.all())
    missing = [
        *activities_without_safeguard().values_list("name", flat=True),
        *processors_without_safeguard().values_list("name", flat=True),
    ]
    context = {
        "exported_at": timezone.localtime(),
        "activities": activities,
        "processors": processors,
        "tables": [
            {
                "title": "Processing activities",
                "headers": [header for header, _ in ACTIVITY_COLUMNS],
                "rows": [[value(a) for _, value in ACTIVITY_COLUMNS] for a in activities],
                "empty": "No processing activity is recorded.",
            },
            {
                "title": "Processors",
                "headers": [header for header, _ in PROCESSOR_COLUMNS],
                "rows": [[value(p) for _, value in PROCESSOR_COLUMNS] for p in processors],
                "empty": "No processor is recorded.",
            },
        ],
        "missing": missing,
    }
    return engines["django"].from_string(REGISTER_HTML).render(context)


@dataclass(frozen=True)
class RegisterDocument:
    """A rendered register, ready to hand out."""

    content: str
    content_type: str
    filename: str
    attachment: bool


# Document name -> the register it covers (for the audit row) and how it is rendered.
DOCUMENTS: dict[str, tuple[type[models.Model], str]] = {
    "record.html": (ProcessingActivity, "text/html; charset=utf-8"),
    "activities.csv": (ProcessingActivity, "text/csv; charset=utf-8"),
    "processors.csv": (Processor, "text/csv; charset=utf-8"),
}


def export_register(*, document: str, actor: Actor, channel: str = "admin") -> RegisterDocument:
    """Render one register document (see DOCUMENTS) and audit the export; KeyError if unknown."""
    model, content_type = DOCUMENTS[document]
    today = timezone.localdate().isoformat()
    if document == "record.html":
        content = _register_html()
        filename = f"record-of-processing-{today}.html"
    elif model is ProcessingActivity:
        rows = ProcessingActivity.objects.prefetch_related("purposes")
        # The BOM makes spreadsheets read the file as UTF-8 (accents, en dashes).
        content = "\ufeff" + _csv(ACTIVITY_COLUMNS, rows)
        filename = f"processing-activities-{today}.csv"
    else:
        content = "\ufeff" + _csv(PROCESSOR_COLUMNS, Processor.objects.all())
        filename = f"processors-{today}.csv"
    # record_audit needs an object: the register's first row, or the register's own type when it
    # is empty. The details say which document went out.
    anchor = model.objects.order_by("pk").first() or ContentType.objects.get_for_model(model)
    record_audit(
        actor=actor,
        action=AuditEvent.Action.EXPORTED,
        obj=anchor,
        channel=channel,
        details={"document": document, "register": model._meta.model_name},
    )
    return RegisterDocument(
        content=content,
        content_type=content_type,
        filename=filename,
        attachment=not document.endswith(".html"),
    )


def save_disclosure(
    *,
    disclosure: Disclosure,
    actor: AbstractBaseUser,
    changed_fields: Iterable[str] = (),
    channel: str = "admin",
) -> Disclosure:
    """Save a disclosure to an authority and audit it; a new one is handled by `actor`."""
    created = disclosure.pk is None
    if created:
        disclosure.handled_by = actor
    with transaction.atomic():
        disclosure.save()
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CREATED if created else AuditEvent.Action.CHANGED,
            obj=disclosure,
            channel=channel,
            fields=changed_fields,
        )
    return disclosure
