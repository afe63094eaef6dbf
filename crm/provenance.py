"""Record where each contact came from (DESIGN rule 3, GDPR art. 14).

Every contact carries at least one provenance row: the source, the date, the reference (URL, list or
batch) and who collected it. Recording the same provenance twice is harmless: a row is unique per
contact, source and reference.
"""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
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
