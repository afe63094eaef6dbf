"""Register and change webhook endpoints; the one selector of endpoints that are failing.

The secret is made here, returned once to whoever created the endpoint, and never shown again
(the admin and the API show only that one is set); a receiver that lost it gets a new one with
`rotate_secret`. Addresses pass `url_guard` on every save.
"""

import base64
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from core.actors import Actor
from core.audit import record_audit
from core.events import EventKind
from core.models import AuditEvent
from integrations.models import WebhookEndpoint
from integrations.url_guard import check_webhook_url
from privacy.models import Processor


def new_secret() -> str:
    """Return a fresh signing secret in the Standard Webhooks form (`whsec_` and base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def clean_event_kinds(kinds: Iterable[str]) -> list[str]:
    """Return the kinds sorted and once each; raise ValidationError naming unknown ones."""
    wanted = sorted(set(kinds))
    unknown = [kind for kind in wanted if kind not in EventKind.values]
    if unknown:
        raise ValidationError({"event_kinds": f"Unknown event kinds: {', '.join(unknown)}."})
    if not wanted:
        raise ValidationError({"event_kinds": "Choose at least one kind of event."})
    return wanted


def _check(url: str, kinds: Iterable[str]) -> list[str]:
    """Check the address and the kinds together, so every field's error shows at once."""
    errors = {}
    try:
        check_webhook_url(url)
    except ValidationError as exc:
        errors["url"] = exc.messages
    try:
        wanted = clean_event_kinds(kinds)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return wanted


def create_endpoint(
    *,
    name: str,
    url: str,
    event_kinds: Iterable[str],
    recipient: Processor,
    actor: Actor,
    channel: str,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; return it with its secret, which is shown this once only."""
    kinds = _check(url, event_kinds)
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            name=name.strip() or url,
            url=url,
            secret=secret,
            event_kinds=kinds,
            recipient=recipient,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        record_audit(actor=actor, action=AuditEvent.Action.CREATED, obj=endpoint, channel=channel)
    return endpoint, secret


def update_endpoint(
    *, endpoint: WebhookEndpoint, actor: Actor, channel: str, **changes
) -> WebhookEndpoint:
    """Change name, url, event kinds, recipient or active flag; re-check the address."""
    allowed = {"name", "url", "event_kinds", "recipient", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Unknown endpoint fields: {sorted(unknown)}")
    url = changes.get("url", endpoint.url)
    changes["event_kinds"] = _check(url, changes.get("event_kinds", endpoint.event_kinds))
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("is_active"):
        endpoint.failing_since = None  # switched on again: a fresh start
    with transaction.atomic():
        endpoint.save()
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=endpoint,
            channel=channel,
            fields=changes,
        )
    return endpoint


def rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor, channel: str) -> str:
    """Give the endpoint a new secret and return it, once; later deliveries are signed with it."""
    secret = new_secret()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=endpoint,
            channel=channel,
            fields=["secret"],
        )
    endpoint.secret = secret
    return secret


def failing_endpoints() -> QuerySet[WebhookEndpoint]:
    """Return the active endpoints marked failing (a delivery gave up), longest failing first.

    For the operations view: `failing_since` says since when; a later successful delivery
    clears it.
    """
    return WebhookEndpoint.objects.filter(is_active=True, failing_since__isnull=False).order_by(
        "failing_since", "id"
    )
