"""Recipients as data: who received whose personal data (GDPR art. 15(1)(c), 19 and 30(1)(d)).

Each processor in the register is a recipient, and a webhook endpoint belongs to one. Every
hand-over (a disclosure, a list shared with a client, an export to another system, the events a
webhook received) is a `RecipientBatch` with one `RecipientSubject` row per person it covered,
with the recipient's own reference for them when they gave one. Art. 19 needs this twice: a
rectification, erasure or restriction is passed on to every recipient of that person, and the
person is told who those recipients are if they ask. Ids only: no copy of what was given.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Contact
from privacy.models import Processor, RecipientBatch, RecipientSubject


def record_disclosure(
    *,
    recipient: Processor,
    kind: str,
    description: str,
    people: Mapping[int, str],
    actor: Actor,
    channel: str,
    reference: str = "",
) -> RecipientBatch:
    """Record that the people (contact id -> the recipient's reference) went to the recipient.

    Unknown contact ids, an unknown kind or an empty description are refused and nothing is
    stored. The batch and its audit event are written in one transaction.
    """
    errors = {}
    if kind not in RecipientBatch.Kind.values:
        errors["kind"] = f"Unknown kind of hand-over {kind!r}."
    if not description.strip():
        errors["description"] = "Say what was given, in categories (like 'name, e-mail')."
    if not people:
        errors["people"] = "Name at least one contact."
    known = set(Contact.objects.filter(pk__in=list(people)).values_list("pk", flat=True))
    unknown = sorted(set(people) - known)
    if unknown:
        errors["people"] = f"Unknown contacts: {', '.join(map(str, unknown[:20]))}."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        batch = RecipientBatch.objects.create(
            recipient=recipient,
            kind=kind,
            description=description.strip(),
            reference=reference,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            people=len(people),
        )
        RecipientSubject.objects.bulk_create(
            RecipientSubject(batch=batch, recipient=recipient, contact_id=pk, reference=ref[:200])
            for pk, ref in people.items()
        )
        record_audit(
            actor=actor,
            action=AuditEvent.Action.EXPORTED,
            obj=batch,
            channel=channel,
            details={"recipient": recipient.pk, "people": len(people), "kind": kind},
        )
    return batch


def record_webhook_recipient(
    *, recipient_id: int, contact_id: int, reference: str = "", day: str
) -> None:
    """Record that a webhook's recipient was told of a person, in that day's batch, once.

    A later reference the receiver returns replaces an empty one.
    """
    with transaction.atomic():
        batch, _ = RecipientBatch.objects.get_or_create(
            recipient_id=recipient_id,
            kind=RecipientBatch.Kind.WEBHOOK,
            reference=day,
            defaults={"description": "Event ids and changed field names (webhook)"},
        )
        row, created = RecipientSubject.objects.get_or_create(
            batch=batch,
            contact_id=contact_id,
            defaults={"recipient_id": recipient_id, "reference": reference[:200]},
        )
        if created:
            RecipientBatch.objects.filter(pk=batch.pk).update(people=batch.people + 1)
        elif reference and not row.reference:
            RecipientSubject.objects.filter(pk=row.pk).update(reference=reference[:200])


def recipients_of(contact_id: int) -> list[dict]:
    """Return each recipient holding the person's data once, with its latest reference for them.

    Read before an erasure removes the rows: the erasure event carries this list.
    """
    latest: dict[int, str] = {}
    rows = RecipientSubject.objects.filter(contact_id=contact_id).order_by("id")
    for recipient_id, reference in rows.values_list("recipient_id", "reference"):
        latest[recipient_id] = reference or latest.get(recipient_id, "")
    return [{"recipient": pk, "reference": ref} for pk, ref in sorted(latest.items())]


def recipient_names(contact_id: int) -> list[str]:
    """Return the names of the recipients of the person's data, sorted (for the answer to them)."""
    ids = {item["recipient"] for item in recipients_of(contact_id)}
    return sorted(Processor.objects.filter(pk__in=ids).values_list("name", flat=True))
