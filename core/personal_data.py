"""What the ground floor's tables hold, for the personal-data registry."""

from django.utils.translation import gettext_noop

from core.models import AuditEvent, OutboundEvent, OutboxTask, TaskFailure, TaskRun
from core.registry import Delete, registry

registry.exempt(
    AuditEvent,
    reason="Ids, actions and field names only, never values; kept for accountability (art. 5(2)).",
)
registry.exempt(
    OutboxTask,
    reason="Task names and ids; a subscription's confirmation carries its signed link (address, "
    "name, purposes) only until the broker takes it, and the row is then deleted.",
)


def _pending_events(contact_ids: list[int]):
    """Return the contacts' events not yet handed out, except the erasure's own."""
    return OutboundEvent.objects.filter(contact_id__any_of=contact_ids).exclude(
        kind="contact.erased"
    )


registry.declare(
    OutboundEvent,
    category="integration_events",
    description=gettext_noop(
        "Changes waiting to be announced to other systems: ids and field names."
    ),
    rows=_pending_events,
    fields=("data",),
    export_fields=("kind", "occurred_at"),
    # Announced within seconds and then deleted; a pending change of an erased person is dropped,
    # and the erasure's own event (which carries only the address's keyed hash) goes out.
    erasure=Delete(),
)
registry.exempt(
    TaskRun,
    reason="Periodic task names, times and the class of their last error; no data of anyone.",
)
registry.exempt(
    TaskFailure,
    reason="Task names, times and exception classes (never their messages); kept seven days.",
)
