"""The contact's timeline: everything that happened to a person's data, newest first.

Built from the personal-data registry, not from a list of models: every declared model whose rows
carry a date (its `timeline_field`, or the first date among its export fields) is a source, so a
model declared later (web visits, say) appears without new code here. Each entry says what it is
(the model), its kind (the declaration's data category: provenance, consent, campaign history…),
a summary made of its declared export fields (choice labels, related rows' names; never the
declared personal fields), and a link to its record in the admin. The audit trail adds the changes,
exports and erasures of the person's data, for staff who may read it. A source is shown only to
staff who may view its model, so a role sees on the timeline what it may see elsewhere.

Paging reads at most `page x size` rows per source, each by the source's own date index, and merges
them; the first pages of a person with a hundred thousand events stay cheap (bench/timeline.py).
"""

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice

from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.audit import record_audit
from core.models import AuditEvent
from core.registry import Declaration, registry
from crm.models import Contact

PAGE_SIZE = 25
# Past this page, staff narrow by kind: each page reads page x size rows of every source.
MAX_PAGE = 200
AUDIT_KIND = "audit"
# Views are the trail of who looked; the timeline tells what happened to the data.
AUDIT_ACTIONS_SHOWN = (
    AuditEvent.Action.CREATED,
    AuditEvent.Action.CHANGED,
    AuditEvent.Action.DELETED,
    AuditEvent.Action.EXPORTED,
    AuditEvent.Action.ERASED,
)

Staff = AbstractBaseUser | AnonymousUser | None


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened: when, of what kind, what it says, and where its record is."""

    at: datetime
    kind: str
    title: str
    summary: str
    url: str
    record: str  # "app_label.model:pk", stable across pages


@dataclass(frozen=True)
class TimelinePage:
    """One page of a timeline, with the kinds staff may filter by."""

    entries: list[TimelineEntry]
    page: int
    has_next: bool
    kinds: list[str]


@dataclass(frozen=True)
class Source:
    """A declared model on the timeline: its rows' date field and its kind."""

    declaration: Declaration
    at_field: str

    @property
    def kind(self) -> str:
        return self.declaration.category


def timeline_sources() -> list[Source]:
    """Return every declared model that can place its rows on a timeline, by registry order."""
    sources = []
    for declaration in registry:
        if declaration.model is Contact or declaration.timeline_field is None:
            continue
        at_field = declaration.timeline_field or _first_date(declaration)
        if at_field:
            sources.append(Source(declaration=declaration, at_field=at_field))
    return sources


def _first_date(declaration: Declaration) -> str:
    """Return the first date or time field among the export fields, or ''."""
    opts = declaration.model._meta
    for name in declaration.export_fields:
        if isinstance(opts.get_field(name), models.DateField):
            return name
    return ""


def contact_timeline(
    *, contact: Contact, user: Staff, kind: str = "", page: int = 1, size: int = PAGE_SIZE
) -> TimelinePage:
    """Return one page of the contact's timeline as this member of staff may see it."""
    page = min(max(page, 1), MAX_PAGE)
    sources = [s for s in timeline_sources() if _may_view(user, s.declaration.model)]
    show_audit = _may_view(user, AuditEvent)
    kinds = sorted({s.kind for s in sources} | ({AUDIT_KIND} if show_audit else set()))
    if kind:
        sources = [s for s in sources if s.kind == kind]
        show_audit = show_audit and kind == AUDIT_KIND
    wanted = page * size + 1
    streams = [_entries(source, contact, user, wanted) for source in sources]
    if show_audit:
        streams.append(_audit_entries(contact, wanted))
    merged = heapq.merge(*streams, key=lambda e: (e.at, e.record), reverse=True)
    window = list(islice(merged, (page - 1) * size, wanted))
    return TimelinePage(entries=window[:size], page=page, has_next=len(window) > size, kinds=kinds)


def record_timeline_view(*, contact: Contact, actor: Staff, channel: str, kind: str = "") -> None:
    """Log once that staff read the person's timeline (DESIGN rule 7), whatever it holds."""
    record_audit(
        actor=actor,
        action=AuditEvent.Action.VIEWED,
        obj=contact,
        channel=channel,
        details={"timeline": kind or "all"},
    )


def _may_view(user: Staff, model: type[models.Model]) -> bool:
    opts = model._meta
    return bool(user and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"))


def _entries(source: Source, contact: Contact, user: Staff, limit: int) -> Iterator[TimelineEntry]:
    """Yield the source's entries for the contact, newest first, at most `limit`."""
    declaration = source.declaration
    model = declaration.model
    related = [
        name
        for name in declaration.export_fields
        if isinstance(model._meta.get_field(name), models.ForeignKey)
    ]
    rows = (
        declaration.rows_for(contact_ids=[contact.pk])
        .filter(**{f"{source.at_field}__isnull": False})
        .select_related(*related)
        .order_by(f"-{source.at_field}", "-pk")[:limit]
    )
    title = str(model._meta.verbose_name).capitalize()
    for row in rows:
        yield TimelineEntry(
            at=_as_datetime(getattr(row, source.at_field)),
            kind=source.kind,
            title=title,
            summary=_summary(row, declaration, source.at_field),
            url=_admin_url(row, declaration, user),
            record=f"{declaration.label}:{row.pk}",
        )


def _summary(row: models.Model, declaration: Declaration, at_field: str) -> str:
    """Describe the row by its declared export fields: labels of choices, names of related rows."""
    parts = []
    for name in declaration.export_fields:
        if name == at_field:
            continue
        field = row._meta.get_field(name)
        value = getattr(row, f"get_{name}_display")() if field.choices else getattr(row, name)
        if value in (None, ""):
            continue
        if isinstance(value, datetime):
            value = f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
        parts.append(f"{field.verbose_name}: {value}")
    return " · ".join(parts)


def _admin_url(row: models.Model, declaration: Declaration, user: Staff) -> str:
    """Link to the row's admin page, or to the row it belongs to when it has none (an event)."""
    model, pk = row.__class__, row.pk
    if model not in admin.site._registry and declaration.subject:
        # By the foreign key's id: no query for the row it belongs to.
        link = row._meta.get_field(declaration.subject.split("__")[0])
        model, pk = link.related_model, getattr(row, link.attname)
    if pk is None or not _may_view(user, model):
        return ""
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def _audit_entries(contact: Contact, limit: int) -> Iterator[TimelineEntry]:
    """Yield the audit trail's changes, exports and erasures of the contact, newest first."""
    events = (
        AuditEvent.objects.filter(
            object_type=ContentType.objects.get_for_model(Contact),
            action__in=AUDIT_ACTIONS_SHOWN,
        )
        .filter(Q(object_id=str(contact.pk)) | Q(pk__in=_bulk_events_naming(contact)))
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )
    for event in events:
        who = event.actor.get_username() if event.actor else "the system"
        fields = ", ".join(event.details.get("fields", []))
        many = event.details.get("count")
        summary = f"by {who} · {event.get_channel_display()}"
        if fields:
            summary += f" · fields: {fields}"
        if many:
            summary += f" · {many} contact(s) at once"
        yield TimelineEntry(
            at=event.at,
            kind=AUDIT_KIND,
            title=event.get_action_display(),
            summary=summary,
            url=reverse("admin:core_auditevent_change", args=[event.pk]),
            record=f"core.auditevent:{event.pk}",
        )


def _bulk_events_naming(contact: Contact) -> QuerySet:
    """Return the ids of audit events of many contacts (exports, bulk actions) naming this one."""
    many = AuditEvent.objects.filter(
        object_type=ContentType.objects.get_for_model(Contact), object_id=""
    )
    if connection.vendor == "postgresql":
        return many.filter(details__ids__contains=[contact.pk]).values("pk")
    # SQLite's JSON1 reads the list; its JSONField has no `contains` lookup.
    named = RawSQL(
        "EXISTS (SELECT 1 FROM json_each(details, '$.ids') WHERE value = %s)",
        [contact.pk],
        output_field=models.BooleanField(),
    )
    return many.annotate(named=named).filter(named=True).values("pk")


def _as_datetime(value: date | datetime) -> datetime:
    """Place a date at the start of its day, so dates and times sort together."""
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.min))
