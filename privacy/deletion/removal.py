"""Remove people's data through the registry, many at a time: shared by erasure and retention.

For a batch of contacts, every declared model's rows are deleted or anonymised by the declared
action, deepest first, in the caller's transaction. Rows under a legal hold (`Retain` with an
`until_field` still in the future) are kept, and a contact such rows point at is anonymised
instead of deleted (the declaration's `on_hold` action) and stamped `anonymised_at`; rows kept on
a permanent ground (suppression hashes, certificates) are always kept.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.apps import apps
from django.utils import timezone

from core.registry import Declaration, Delete, Retain, registry


@dataclass
class Removal:
    """What a removal did, per table: counts only."""

    removed: Counter = field(default_factory=Counter)
    retained: dict[str, dict] = field(default_factory=dict)
    held_contacts: set[int] = field(default_factory=set)


def removal_order() -> list[Declaration]:
    """Return the declarations deepest first, so no row is removed before what points at it.

    Among declarations of one depth, a model pointing at another declared model (a consent
    state at the event that decided it) comes before the models it points at: the checks that
    stand in for foreign keys run at the end of each statement, not at commit (core/orphans.py).
    """
    contact_model = apps.get_model("crm", "Contact")
    declared = {declaration.model for declaration in registry}

    def depth(declaration: Declaration) -> int:
        if declaration.subject is None:
            return 100  # found through the contact's address: must run while the contact exists
        return declaration.subject.count("__") + 1 if declaration.subject else 0

    def points_at(declaration: Declaration) -> int:
        return sum(
            1
            for field in declaration.model._meta.concrete_fields
            if field.is_relation
            and field.related_model in declared
            and field.related_model not in (contact_model, declaration.model)
        )

    return sorted(registry, key=lambda d: (depth(d), points_at(d)), reverse=True)


def held_contact_ids(contact_ids: list[int], *, today: date | None = None) -> set[int]:
    """Return the contacts that rows under a legal hold on `today` (default: today) point at."""
    today = today or timezone.localdate()
    held: set[int] = set()
    for declaration in registry:
        erasure = declaration.erasure
        if (
            not isinstance(erasure, Retain)
            or erasure.until_field is None
            or not declaration.subject
        ):
            continue
        rows = declaration.rows_for(contact_ids=contact_ids).filter(
            **{f"{erasure.until_field}__gte": today}
        )
        held.update(rows.values_list(f"{declaration.subject}_id", flat=True))
    return held


def remove_subjects(contact_ids: list[int], *, now: datetime | None = None) -> Removal:
    """Delete or anonymise everything the registry holds about these contacts, holds aside.

    Holds are judged on the local date of `now` (default: now), the clock of the caller: a
    retention run measures ages and holds by one clock.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    outcome = Removal(held_contacts=held_contact_ids(contact_ids, today=today))
    for declaration in removal_order():
        _remove(declaration, contact_ids, outcome, now=now, today=today)
    outcome.removed = Counter({k: v for k, v in outcome.removed.items() if v})
    return outcome


def _remove(
    declaration: Declaration,
    contact_ids: list[int],
    outcome: Removal,
    *,
    now: datetime,
    today: date,
) -> None:
    """Apply one declaration's action to the batch's rows; add what it did to `outcome`."""
    rows = declaration.rows_for(contact_ids=contact_ids)
    erasure = declaration.erasure
    if isinstance(erasure, Retain):
        if erasure.until_field is not None:
            expired = rows.filter(**{f"{erasure.until_field}__lt": today})
            outcome.removed[declaration.label] += Delete().apply(expired)
            rows = rows.filter(**{f"{erasure.until_field}__gte": today})
        kept = rows.count()
        if kept:
            outcome.retained[declaration.label] = {"rows": kept, "ground": erasure.ground}
        return
    if declaration.model is apps.get_model("crm", "Contact") and outcome.held_contacts:
        held = rows.filter(pk__in=outcome.held_contacts)
        outcome.removed[declaration.label] += declaration.on_hold.apply(held)
        held.update(anonymised_at=now)
        rows = rows.exclude(pk__in=outcome.held_contacts)
    outcome.removed[declaration.label] += erasure.apply(rows)
