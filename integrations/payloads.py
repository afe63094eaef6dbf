"""The body of a webhook delivery and its Standard Webhooks signature.

Body: `{"id", "type", "occurred_at", "data"}`, JSON. `data` holds ids and the names of changed
fields; an art. 19 event (rectified, erased, restricted) adds `recipient_reference`, the
receiver's own id for the person when it gave us one, and never another recipient's. Signature:
the Standard Webhooks scheme (https://www.standardwebhooks.com): headers `webhook-id` (the event
id, the same on every retry), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret),
so a receiver can use any of its libraries or the ten lines in docs/webhooks.md.
"""

import json
from datetime import datetime

from standardwebhooks import Webhook

from core.events import ARTICLE_19_KINDS
from core.models import OutboundEvent


def build_payload(event: OutboundEvent, *, recipient_id: int) -> dict:
    """Return the delivery body of an event for one endpoint's recipient."""
    data = {key: value for key, value in event.data.items() if key != "recipients"}
    if event.contact_id is not None:
        data["contact"] = event.contact_id
    if event.kind in ARTICLE_19_KINDS:
        references = {r["recipient"]: r["reference"] for r in event.data.get("recipients", [])}
        data["recipient_reference"] = references.get(recipient_id) or None
    return {
        "id": str(event.pk),
        "type": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "data": data,
    }


def encode(payload: dict) -> str:
    """Return the body exactly as it is signed and sent."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def signed_headers(*, secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    """Return the Standard Webhooks headers of one attempt, signed at `at`."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=event_id, timestamp=at, data=body),
        "content-type": "application/json",
    }
