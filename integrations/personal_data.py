"""What the integrations app's tables hold, for the personal-data registry."""

from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from core.registry import Anonymise, Delete, registry
from integrations.models import Delivery, RecipientNotice, WebhookEndpoint


def _deliveries(contact_ids: list[int]) -> QuerySet:
    """Return the deliveries about the contacts, except an erasure's own (it must still go)."""
    return Delivery.objects.filter(contact_id__any_of=contact_ids).exclude(kind="contact.erased")


def _notices(contact_ids: list[int]) -> QuerySet:
    """Return the art. 19 notices sent about the contacts."""
    return RecipientNotice.objects.filter(contact_ref__any_of=contact_ids)


registry.declare(
    Delivery,
    category="integration_events",
    description=gettext_noop("Events about you sent to other systems by webhook: ids only."),
    rows=_deliveries,
    fields=("payload",),
    export_fields=("endpoint", "kind", "occurred_at", "status", "delivered_at"),
    erasure=Delete(),
)
registry.declare(
    RecipientNotice,
    category="recipients",
    description=gettext_noop(
        "Corrections, erasures and restrictions of your data we passed on to its recipients."
    ),
    rows=_notices,
    fields=("reference",),
    export_fields=("recipient", "change", "method", "status", "sent_at", "acknowledged_at"),
    # Proof that the change was passed on (art. 5(2), 19), without the recipient's id for them.
    erasure=Anonymise(fields=("reference",)),
)
registry.exempt(WebhookEndpoint, reason="Other systems' addresses and secrets; no person's data.")
