"""Deliver outbound events to webhook endpoints: fan-out, signed attempts, backoff, send again.

An event becomes one `Delivery` per active endpoint that asked for its kind, in one transaction
that also deletes the event, so a re-run finds nothing left to fan out and the unique
(endpoint, event id) pair makes a repeat create no second delivery. Each attempt is claimed by
pushing `next_attempt_at` forward (a lease), so two workers never post the same attempt; the HTTP
call runs outside any transaction. A 2xx answer delivers it and clears the payload; anything
else, a timeout or a refused address is retried after `WEBHOOK_RETRY_DELAYS` (about a day in
all), then the delivery is given up and its endpoint marked failing. Nothing here ever holds up
the change that caused the event: requests complete whatever the receivers do.
"""

import logging
from datetime import timedelta
from functools import cache

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.events import ARTICLE_19_KINDS
from core.models import AuditEvent, OutboundEvent
from core.outbox import enqueue_on_commit
from integrations.models import Delivery, RecipientNotice, WebhookEndpoint
from integrations.notices import create_notices, fall_back_to_mail
from integrations.payloads import build_payload, encode, signed_headers
from integrations.url_guard import check_webhook_url
from privacy.accountability.recipients import record_webhook_recipient

logger = logging.getLogger(__name__)
DUE_BATCH = 200
EVENT_BATCH = 200


@cache
def http_client() -> httpx.Client:
    """Return this process's HTTP client: TLS set-up and connections reused across deliveries."""
    return httpx.Client(follow_redirects=False)  # a redirect could lead past the address check


def dispatch_event(*, event_id: str) -> int:
    """Turn an event into deliveries and art. 19 notices, delete it; return deliveries made."""
    with transaction.atomic():
        event = OutboundEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return 0  # already dispatched by an earlier run
        made = []
        endpoints = WebhookEndpoint.objects.filter(is_active=True).order_by("id")
        for endpoint in endpoints:
            if not endpoint.wants(event.kind):
                continue
            delivery, created = Delivery.objects.get_or_create(
                endpoint=endpoint,
                event_id=event.pk,
                defaults={
                    "kind": event.kind,
                    "occurred_at": event.occurred_at,
                    "contact_id": event.contact_id,
                    "payload": build_payload(event, recipient_id=endpoint.recipient_id),
                    "next_attempt_at": timezone.now(),
                },
            )
            if created:
                made.append(delivery)
        if event.kind in ARTICLE_19_KINDS:
            create_notices(event=event, deliveries=made)
        event.delete()
        for delivery in made:
            enqueue_on_commit("integrations.tasks.deliver", delivery.pk)
    return len(made)


def dispatch_pending_events(*, limit: int = 5000) -> int:
    """Dispatch waiting events oldest first, each in its own transaction; return how many.

    Bounded per run so a burst never holds the beat task long; the next run carries on.
    """
    done = 0
    while done < limit:
        ids = list(
            OutboundEvent.objects.order_by("occurred_at", "id").values_list("pk", flat=True)[
                :EVENT_BATCH
            ]
        )
        for event_id in ids:
            dispatch_event(event_id=str(event_id))
        done += len(ids)
        if len(ids) < EVENT_BATCH:
            break
    return done


def _claim(delivery_id: int) -> Delivery | None:
    """Take the attempt: push its next time past the timeout, so no other worker takes it."""
    now = timezone.now()
    lease = now + timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)
    claimed = Delivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
    ).update(next_attempt_at=lease)
    if not claimed:
        return None
    return Delivery.objects.select_related("endpoint").get(pk=delivery_id)


def attempt_delivery(*, delivery_id: int) -> str:
    """Post the delivery once, signed; record the outcome and schedule a retry; return status."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not due"
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return _failed_attempt(delivery, code=None, error="endpoint switched off")
    body = encode(delivery.payload or {})
    headers = signed_headers(
        secret=endpoint.secret, event_id=str(delivery.event_id), body=body, at=timezone.now()
    )
    try:
        check_webhook_url(endpoint.url)
        response = http_client().post(
            endpoint.url,
            content=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except ValidationError as exc:
        return _failed_attempt(delivery, code=None, error=exc.messages[0])
    except httpx.HTTPError as exc:
        return _failed_attempt(delivery, code=None, error=type(exc).__name__)
    if not 200 <= response.status_code < 300:
        return _failed_attempt(delivery, code=response.status_code, error="")
    _delivered(delivery, code=response.status_code, reference=_reference(response))
    return Delivery.Status.DELIVERED


def _reference(response: httpx.Response) -> str:
    """Read the receiver's own id for the person from its answer, `{"reference": …}`, if any."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    value = answer.get("reference") if isinstance(answer, dict) else None
    return str(value)[:200] if isinstance(value, str | int) else ""


def _delivered(delivery: Delivery, *, code: int, reference: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DELIVERED,
            payload=None,
            attempts=delivery.attempts + 1,
            delivered_at=now,
            next_attempt_at=None,
            last_status_code=code,
            last_error="",
        )
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)
        RecipientNotice.objects.filter(delivery=delivery).update(
            status=RecipientNotice.Status.ACKNOWLEDGED, sent_at=now, acknowledged_at=now
        )
        if delivery.contact_id is not None and delivery.kind not in ARTICLE_19_KINDS:
            # The receiver now knows of the person: it is one of their recipients (art. 19).
            record_webhook_recipient(
                recipient_id=delivery.endpoint.recipient_id,
                contact_id=delivery.contact_id,
                reference=reference,
                day=now.date().isoformat(),
            )


def _failed_attempt(delivery: Delivery, *, code: int | None, error: str) -> str:
    """Schedule the next attempt after its delay, or give up and mark the endpoint failing."""
    attempts = delivery.attempts + 1
    delays = settings.WEBHOOK_RETRY_DELAYS
    now = timezone.now()
    give_up = attempts > len(delays) or not delivery.endpoint.is_active
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED if give_up else Delivery.Status.RETRYING,
            attempts=attempts,
            next_attempt_at=None if give_up else now + timedelta(seconds=delays[attempts - 1]),
            last_status_code=code,
            last_error=error[:200],
        )
        if give_up:
            WebhookEndpoint.objects.filter(
                pk=delivery.endpoint_id, failing_since__isnull=True
            ).update(failing_since=now)
            fall_back_to_mail(delivery=delivery)
    logger.warning(
        "webhook: delivery %s to endpoint %s failed (attempt %s, status %s%s)",
        delivery.pk,
        delivery.endpoint_id,
        attempts,
        code,
        ", given up" if give_up else "",
    )
    return Delivery.Status.FAILED if give_up else Delivery.Status.RETRYING


def queue_due_deliveries(*, now=None) -> int:
    """Queue an attempt for every delivery whose time has come (retries, lost tasks); count."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    for pk in due:
        enqueue_on_commit("integrations.tasks.deliver", pk)
    return len(due)


def prune_delivery_log(*, older_than_days: int, batch: int = 2000) -> int:
    """Delete finished deliveries older than the period, a batch per transaction; return count.

    Delivered rows hold no payload and given-up ones are past sending again by then; the art. 19
    notices they carried stay, on their requests.
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    finished = Delivery.objects.filter(
        status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED], created_at__lt=cutoff
    )
    removed = 0
    while True:
        ids = list(finished.order_by("id").values_list("pk", flat=True)[:batch])
        if not ids:
            return removed
        with transaction.atomic():
            RecipientNotice.objects.filter(delivery_id__in=ids).update(delivery=None)
            removed += Delivery.objects.filter(pk__in=ids).delete()[0]


def send_again(*, delivery: Delivery, actor: Actor, channel: str) -> Delivery:
    """Queue a given-up delivery again from its first attempt; a delivered one has no payload."""
    if delivery.status != Delivery.Status.FAILED:
        raise ValidationError(
            "Only a delivery that was given up can be sent again; a delivered one keeps no "
            "payload, and a pending one is still being tried."
        )
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=delivery,
            channel=channel,
            details={"send_again": True},
        )
        enqueue_on_commit("integrations.tasks.deliver", delivery.pk)
    delivery.refresh_from_db()
    return delivery
