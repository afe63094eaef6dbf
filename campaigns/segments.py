"""Segments: a saved filter over contacts turned into a queryset, and its live count.

Within one criterion any listed value matches (this country or that one); across criteria every
criterion must hold (these countries and these tags). An empty criterion matches everyone. Tags and
sources are matched with subqueries, so a contact with two matching tags is still one row. The
segment's rules (groups joined by AND/OR, `campaigns.segment_rules`) must hold as well.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import Segment
from campaigns.segment_rules import rules_condition
from crm.models import Contact, ContactSource


@dataclass(frozen=True)
class SegmentCriteria:
    """The criteria of a segment, saved or still being edited in the admin."""

    company_ids: tuple[int, ...] = ()
    industries: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    relationships: tuple[str, ...] = ()
    source_ids: tuple[int, ...] = ()
    tag_ids: tuple[int, ...] = ()
    active_within_days: int | None = None
    rules: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SegmentCount:
    """How many contacts a segment matches: exact, or the planner's estimate above a limit."""

    value: int
    exact: bool = field(default=True)


def criteria_of(segment: Segment) -> SegmentCriteria:
    """Return the criteria a saved segment holds."""
    return SegmentCriteria(
        company_ids=_ids(segment.companies.values_list("pk", flat=True)),
        industries=tuple(segment.industries or ()),
        countries=tuple(segment.countries or ()),
        relationships=tuple(segment.relationships or ()),
        source_ids=_ids(segment.sources.values_list("pk", flat=True)),
        tag_ids=_ids(segment.tags.values_list("pk", flat=True)),
        active_within_days=segment.active_within_days,
        rules=segment.rules or {},
    )


def _ids(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(values))


def matching_contacts(criteria: SegmentCriteria, *, now: datetime | None = None) -> QuerySet:
    """Return the contacts that match every criterion, without ordering (for counts and joins)."""
    # A record merged into another keeps only its id: the person is the record kept.
    contacts = Contact.objects.filter(merged_into__isnull=True).order_by()
    if criteria.company_ids:
        contacts = contacts.filter(company_id__in=criteria.company_ids)
    if criteria.industries:
        contacts = contacts.filter(company__industry__in=criteria.industries)
    if criteria.countries:
        contacts = contacts.filter(country__in=criteria.countries)
    if criteria.relationships:
        contacts = contacts.filter(relationship__in=criteria.relationships)
    if criteria.source_ids:
        provenance = ContactSource.objects.filter(source_id__in=criteria.source_ids)
        contacts = contacts.filter(pk__in=provenance.values("contact_id"))
    if criteria.tag_ids:
        tagged = Contact.tags.through.objects.filter(tag_id__in=criteria.tag_ids)
        contacts = contacts.filter(pk__in=tagged.values("contact_id"))
    if criteria.active_within_days is not None:
        since = (now or timezone.now()) - timedelta(days=criteria.active_within_days)
        contacts = contacts.filter(last_activity_at__gte=since)
    if criteria.rules:
        contacts = contacts.filter(rules_condition(criteria.rules, now=now))
    return contacts


def segment_contacts(segment: Segment) -> QuerySet:
    """Return the contacts a saved segment matches now."""
    return matching_contacts(criteria_of(segment))


def preview_contacts(criteria: SegmentCriteria, *, rows: int) -> list[dict]:
    """Return the newest matching contacts' id, name, e-mail, company, country and language."""
    contacts = matching_contacts(criteria).order_by("-pk")[:rows]
    return [
        {
            "id": contact.pk,
            "name": f"{contact.first_name} {contact.last_name}".strip(),
            "email": contact.email or "",
            "company": contact.company.name if contact.company else "",
            "country": str(contact.country),
            "language": contact.language,
        }
        for contact in contacts.select_related("company")
    ]


def count_matching(criteria: SegmentCriteria, *, exact_limit: int | None = None) -> SegmentCount:
    """Count the matching contacts exactly up to `exact_limit`, estimate beyond it.

    The admin asks on every change of the form: counting a million rows each time would keep the
    database busy, so the count stops after the limit and, on PostgreSQL, the planner's estimate of
    the whole filter answers instead. Elsewhere the exact count is returned.
    """
    limit = settings.SEGMENT_COUNT_EXACT_LIMIT if exact_limit is None else exact_limit
    contacts = matching_contacts(criteria)
    bounded = contacts.values("pk")[: limit + 1].count()
    if bounded <= limit:
        return SegmentCount(bounded)
    estimate = _planner_estimate(contacts)
    if estimate is None:
        return SegmentCount(contacts.count())
    return SegmentCount(max(estimate, bounded), exact=False)


def _planner_estimate(contacts: QuerySet) -> int | None:
    """Return PostgreSQL's estimate of the queryset's rows, or None on other databases."""
    connection = connections[contacts.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = contacts.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
