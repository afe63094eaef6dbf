"""Outbound events: every change other systems may need to hear about, recorded with the change.

An event is written in the same transaction as the change it describes, so a rolled-back change
sends nothing and a committed one is never lost. Nothing else happens in that transaction: the
integrations app's beat task (`integrations.tasks.dispatch_events`, every few seconds) reads the
table oldest first and turns each event into signed webhook deliveries and, for the changes GDPR
art. 19 names (rectification, erasure, restriction), into a notice to every recipient of the
person's data, deleting it as it goes. A burst of changes (a list import, a bulk edit) is thus
handed out in batches rather than as one task each, and a web request pays one insert. Payloads
carry ids and the names of changed fields, never values: a receiver that needs the new value
reads it through the API, where access is checked and audited.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from core.models import OutboundEvent


class EventKind(models.TextChoices):
    """The events a webhook endpoint can ask for; their names are part of the public API."""

    CONTACT_CREATED = "contact.created", "Contact created"
    CONTACT_CHANGED = "contact.changed", "Contact changed"
    CONTACT_MERGED = "contact.merged", "Contact merged into another"
    CONTACT_RECTIFIED = "contact.rectified", "Contact rectified on request (art. 16)"
    CONTACT_ERASED = "contact.erased", "Contact erased (art. 17)"
    CONTACT_RESTRICTED = "contact.restricted", "Contact's processing restricted (art. 18)"
    CONSENT_CHANGED = "consent.changed", "Consent granted, refused or withdrawn"
    SUPPRESSION_ADDED = "suppression.added", "Address added to the do-not-contact list"
    REQUEST_RECEIVED = "request.received", "Data-subject request received (verified)"
    REQUEST_COMPLETED = "request.completed", "Data-subject request closed"
    CAMPAIGN_SENT = "campaign.sent", "Campaign sent"


# The changes GDPR art. 19 requires to be passed on to every recipient of the person's data.
ARTICLE_19_KINDS = (
    EventKind.CONTACT_RECTIFIED,
    EventKind.CONTACT_ERASED,
    EventKind.CONTACT_RESTRICTED,
)


def emit_event(
    kind: str,
    /,
    *,
    contact_id: int | None = None,
    fields: Iterable[str] = (),
    **data: Any,
) -> OutboundEvent:
    """Record an event in the current transaction; the integrations beat task hands it out.

    `fields` names the changed fields (never their values); `data` holds ids and flags only.
    """
    if kind not in EventKind.values:
        raise ValueError(f"Unknown event kind {kind!r}.")
    payload = dict(data)
    changed = sorted(fields)
    if changed:
        payload["fields"] = changed
    return OutboundEvent.objects.create(
        id=uuid.uuid4(),
        kind=kind,
        occurred_at=timezone.now(),
        contact_id=contact_id,
        data=payload,
    )
