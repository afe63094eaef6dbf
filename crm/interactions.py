"""Record what happened with a person: staff notes, calls, meetings, messages, each audited."""

from collections.abc import Iterable

from django.db import transaction

from core.actors import Actor
from core.audit import record_audit, save_audited
from core.models import AuditEvent
from crm.models import Interaction


def save_interaction(
    *,
    interaction: Interaction,
    actor: Actor,
    channel: str,
    changed_fields: Iterable[str] = (),
    held_by_actor: bool = False,
) -> Interaction:
    """Save a new or changed interaction and audit it, atomically.

    With `held_by_actor`, a new interaction that names no staff member is held by `actor`.
    """
    if held_by_actor and interaction.pk is None and interaction.staff_id is None:
        interaction.staff = actor if actor is not None and actor.is_authenticated else None
    save_audited(obj=interaction, actor=actor, channel=channel, fields=changed_fields)
    return interaction


def delete_interaction(*, interaction: Interaction, actor: Actor, channel: str) -> None:
    """Delete an interaction and audit it, atomically."""
    with transaction.atomic():
        record_audit(
            actor=actor, action=AuditEvent.Action.DELETED, obj=interaction, channel=channel
        )
        interaction.delete()
