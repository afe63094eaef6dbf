"""Record where each contact came from (DESIGN rule 3, GDPR art. 14).

Every contact carries at least one provenance row: the source, the date, the reference (URL, list or
batch) and who collected it. Recording the same provenance twice is harmless: a row is unique per
contact, source and reference.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit, save_audited
from core.models import AuditEvent
from crm.contacts import create_contact
from crm.models import Client, Contact, ContactSource, Source

STAFF_ENTRY_NAME = "Entered by staff"


def get_source(*, kind: str, name: str, url: str = "", client: Client | None = None) -> Source:
    """Return the source of that kind and name (per client), creating it on first use."""
    source, _ = Source.objects.get_or_create(
        kind=kind, name=name, client=client, defaults={"url": url}
    )
    return source


def record_provenance(
    *,
    contact: Contact,
    source: Source,
    actor: Actor,
    channel: str,
    collected_at: datetime | None = None,
    reference: str = "",
    informed_at: date | None = None,
) -> ContactSource:
    """Record that the contact came from `source`; return the existing row if already recorded."""
    with transaction.atomic():
        provenance, created = ContactSource.objects.get_or_create(
            contact=contact,
            source=source,
            reference=reference,
            defaults={
                "collected_at": collected_at or timezone.now(),
                "collected_by": actor if actor is not None and actor.is_authenticated else None,
                "informed_at": informed_at,
            },
        )
        if created:
            record_audit(
                actor=actor, action=AuditEvent.Action.CREATED, obj=provenance, channel=channel
            )
    return provenance


def ensure_provenance(*, contact: Contact, actor: Actor, channel: str) -> ContactSource | None:
    """Give a contact without any provenance a staff-entry record by `actor`; else do nothing."""
    if contact.provenance.exists():
        return None
    source = get_source(kind=Source.Kind.STAFF_ENTRY, name=STAFF_ENTRY_NAME)
    return record_provenance(contact=contact, source=source, actor=actor, channel=channel)


def save_provenance(
    *, provenance: ContactSource, actor: Actor, channel: str, changed_fields: Iterable[str] = ()
) -> ContactSource:
    """Save a provenance row staff add or correct and audit it, atomically.

    A new row that names no collector was collected by `actor`.
    """
    if provenance.pk is None and provenance.collected_by_id is None:
        provenance.collected_by = actor if actor is not None and actor.is_authenticated else None
    save_audited(obj=provenance, actor=actor, channel=channel, fields=changed_fields)
    return provenance


def create_contact_with_provenance(
    *,
    actor: Actor,
    channel: str,
    contact_values: dict[str, Any],
    source_kind: str,
    source_name: str,
    source_url: str = "",
    collected_at: datetime | None = None,
    reference: str = "",
    informed_at: date | None = None,
) -> Contact:
    """Create a contact and record where it came from, atomically; raise ValidationError if invalid.

    The source is found or created by kind and name, like `get_source`.
    """
    with transaction.atomic():
        contact = create_contact(actor=actor, channel=channel, **contact_values)
        record_provenance(
            contact=contact,
            source=get_source(kind=source_kind, name=source_name, url=source_url),
            actor=actor,
            channel=channel,
            collected_at=collected_at,
            reference=reference,
            informed_at=informed_at,
        )
    return contact
