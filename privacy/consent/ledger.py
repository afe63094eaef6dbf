"""The consent ledger (DESIGN rule 2; GDPR art. 6(1)(a), 7 and 21).

Consent is proven, not asserted: every grant, refusal and withdrawal is an append-only
`ConsentEvent` with the purpose, the exact wording shown, the privacy-notice version, the channel,
the time and the request's metadata (the user agent; the IP address only when the documented
`CONSENT_RECORD_IP` setting is on). Events are never updated; only erasure of the person removes
them. `ConsentState` holds the latest event per (contact, purpose) for fast audience queries and
can always be rebuilt from the ledger. A repeated submission carries the same idempotency key and
records one event.

Time cannot outrun a decision (art. 7(3)). An event may not be dated in the future beyond
`CONSENT_CLOCK_SKEW` seconds; one dated earlier than it is recorded (beyond the same skew) needs a
reason, kept in the proof as a backdated entry. The derived state is the latest-dated event among
those recorded since the person's last refusal or withdrawal: a refusal or withdrawal always takes
effect over every grant recorded before it, whatever their dates, and only a grant recorded after
it (and dated no earlier) can bring consent back. `rebuild_consent_states` applies the same rule.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.events import EventKind, emit_event
from core.models import AuditEvent
from crm.models import Contact
from crm.suppression import may_contact
from privacy.models import ConsentEvent, ConsentState, NoticeVersion, Purpose
from privacy.translations import reader_language


@dataclass(frozen=True)
class RequestMetadata:
    """What the ledger keeps of the request that carried a consent decision."""

    user_agent: str = ""
    ip_address: str | None = None


NO_METADATA = RequestMetadata()


def record_consent(
    *,
    contact: Contact,
    purpose: Purpose,
    action: str,
    wording: str,
    channel: str,
    notice_version: NoticeVersion | None = None,
    metadata: RequestMetadata = NO_METADATA,
    evidence: str = "",
    recorded_by: Actor = None,
    occurred_at: datetime | None = None,
    backdate_reason: str = "",
    language: str = "",
    idempotency_key: str | None = None,
) -> tuple[ConsentEvent, bool]:
    """Append a consent event and update the derived state; return (event, created).

    With an idempotency key already used for this purpose, return that event and change nothing.
    `language` is the one the wording was shown in (default: the active language).
    """
    now = timezone.now()
    occurred_at = occurred_at or now
    errors = _timing_errors(occurred_at=occurred_at, now=now, backdate_reason=backdate_reason)
    if action not in ConsentEvent.Action.values:
        errors["action"] = f"Unknown consent action {action!r}."
    if channel not in ConsentEvent.Channel.values:
        errors["channel"] = f"Unknown consent channel {channel!r}."
    if not wording.strip():
        errors["wording"] = "The exact wording shown or said to the person is required as proof."
    if not purpose.is_active:
        errors["purpose"] = f"The purpose {purpose.code!r} is no longer in use."
    if channel in (ConsentEvent.Channel.STAFF_PHONE, ConsentEvent.Channel.STAFF_PAPER) and not (
        evidence.strip()
    ):
        errors["evidence"] = "Say who gave the consent, when, and where the record is filed."
    if (
        action == ConsentEvent.Action.GRANT
        and channel != ConsentEvent.Channel.DOUBLE_OPT_IN
        and contact.email
        and not may_contact(email=contact.email)
    ):
        # DESIGN rule 4: an opted-out address comes back only by the person's own confirmation.
        errors["action"] = (
            "This address opted out of all contact; only the person's own double opt-in "
            "(the subscription form) can bring it back."
        )
    if errors:
        raise ValidationError(errors)
    if idempotency_key:
        existing = ConsentEvent.objects.filter(
            idempotency_key=idempotency_key, purpose=purpose
        ).first()
        if existing is not None:
            return existing, False
    staff = recorded_by if recorded_by is not None and recorded_by.is_authenticated else None
    try:
        with transaction.atomic():
            event = ConsentEvent.objects.create(
                contact=contact,
                purpose=purpose,
                action=action,
                wording=wording,
                notice_version=notice_version or current_notice(),
                channel=channel,
                occurred_at=occurred_at,
                recorded_at=now,
                backdate_reason=backdate_reason.strip(),
                language=reader_language(language or None),
                user_agent=metadata.user_agent[:400],
                ip_address=metadata.ip_address if settings.CONSENT_RECORD_IP else None,
                evidence=evidence,
                recorded_by=staff,
                idempotency_key=idempotency_key,
            )
            _apply_to_state(event)
            record_audit(
                actor=staff,
                action=AuditEvent.Action.CREATED,
                obj=event,
                channel=channel,
                details={"contact": contact.pk, "purpose": purpose.code, "consent": action},
            )
            emit_event(
                EventKind.CONSENT_CHANGED,
                contact_id=contact.pk,
                consent_event=event.pk,
                purpose=purpose.code,
                action=action,
            )
    except IntegrityError:
        # The same submission arrived twice at once; the first one recorded the event.
        return ConsentEvent.objects.get(idempotency_key=idempotency_key, purpose=purpose), False
    return event, True


def _timing_errors(*, occurred_at: datetime, now: datetime, backdate_reason: str) -> dict:
    """Refuse a date in the future beyond the skew, and a backdated date without a reason."""
    skew = timedelta(seconds=settings.CONSENT_CLOCK_SKEW)
    if occurred_at > now + skew:
        return {
            "occurred_at": (
                f"The time of a consent decision may not lie in the future (more than "
                f"{settings.CONSENT_CLOCK_SKEW} seconds ahead of the server's clock)."
            )
        }
    if occurred_at < now - skew and not backdate_reason.strip():
        return {
            "backdate_reason": (
                "This decision is dated before today's entry: say why it is recorded late "
                "(it is kept in the proof as a backdated entry)."
            )
        }
    return {}


def is_objection(action: str) -> bool:
    """Whether a ledger action is the person saying no (a refusal or a withdrawal)."""
    return action in (ConsentEvent.Action.REFUSE, ConsentEvent.Action.WITHDRAW)


def _apply_to_state(event: ConsentEvent) -> None:
    """Make the derived state follow the event: a no always, a grant when no later-dated one won."""
    state = (
        ConsentState.objects.select_for_update()
        .filter(contact_id=event.contact_id, purpose_id=event.purpose_id)
        .first()
    )
    if state is None:
        ConsentState.objects.create(
            contact_id=event.contact_id,
            purpose_id=event.purpose_id,
            status=event.action,
            last_event=event,
            since=event.occurred_at,
        )
    elif is_objection(event.action) or state.since <= event.occurred_at:
        state.status, state.last_event, state.since = event.action, event, event.occurred_at
        state.save(update_fields=["status", "last_event", "since"])


def current_notice() -> NoticeVersion | None:
    """Return the privacy statement in force now: the latest published, effective version."""
    return (
        NoticeVersion.objects.filter(published_at__isnull=False, effective_at__lte=timezone.now())
        .order_by("-effective_at")
        .first()
    )


def consent_states(contact: Contact) -> dict[str, str]:
    """Map each purpose code to the contact's current consent status."""
    return dict(ConsentState.objects.filter(contact=contact).values_list("purpose__code", "status"))


def change_key(idempotency_key: str, last_event_id: int | None) -> str:
    """Return the key of a change requested once (`idempotency_key`) from the state it saw.

    Two copies of one request arriving together see the same state and record one event; the
    same link or page used again after the state moved on is a new decision and is recorded.
    """
    return hashlib.sha256(f"{idempotency_key}:{last_event_id}".encode()).hexdigest()


def withdraw_all(
    *,
    contact: Contact,
    channel: str,
    wording: str,
    metadata: RequestMetadata = NO_METADATA,
    idempotency_key: str | None = None,
) -> list[ConsentEvent]:
    """Withdraw every consent the contact has granted; return the events recorded.

    The idempotency key is applied per withdrawn grant (see `change_key`): a repeated request
    withdraws each grant once, while the same key (a permanent unsubscribe link) still withdraws
    a grant given later.
    """
    granted = ConsentState.objects.filter(
        contact=contact, status=ConsentEvent.Action.GRANT
    ).select_related("purpose")
    events = []
    for state in granted:
        key = change_key(idempotency_key, state.last_event_id) if idempotency_key else None
        event, created = record_consent(
            contact=contact,
            purpose=state.purpose,
            action=ConsentEvent.Action.WITHDRAW,
            wording=wording,
            channel=channel,
            metadata=metadata,
            idempotency_key=key,
        )
        if created:
            events.append(event)
    return events


def rebuild_consent_states(*, batch_size: int = 2000) -> int:
    """Recompute every derived state from the ledger, batch by batch; return states written.

    Safe to interrupt and run again: each batch of contacts is rewritten in its own transaction
    from the events alone, by the rule `record_consent` applies as events arrive.
    """
    written = 0
    last_contact = 0
    while True:
        contact_ids = list(
            ConsentEvent.objects.filter(contact_id__gt=last_contact)
            .order_by("contact_id")
            .values_list("contact_id", flat=True)
            .distinct()[:batch_size]
        )
        if not contact_ids:
            return written
        with transaction.atomic():
            written += rebuild_states_of(contact_ids)
        last_contact = contact_ids[-1]


def rebuild_states_of(contact_ids: list[int]) -> int:
    """Rewrite the derived states of these contacts from their events alone; return states written.

    Call it inside a transaction: the old states are deleted before the new ones are written.
    """
    # One pass over the batch's events in the order they were recorded: a subquery per event row
    # would grow with the square of a long ledger (a merge of two long histories).
    rows = (
        ConsentEvent.objects.filter(contact_id__in=contact_ids)
        .order_by("id")
        .values_list("id", "contact_id", "purpose_id", "action", "occurred_at")
    )
    current: dict[tuple[int, int], tuple[datetime, int]] = {}
    for event_id, contact_id, purpose_id, action, occurred_at in rows.iterator():
        pair = (contact_id, purpose_id)
        held = current.get(pair)
        # The rule of `_apply_to_state`: a refusal or withdrawal beats every event recorded
        # before it, whatever their dates; otherwise an event wins unless dated before the one held.
        if held is None or is_objection(action) or held[0] <= occurred_at:
            current[pair] = (occurred_at, event_id)
    events = ConsentEvent.objects.in_bulk([event_id for _, event_id in current.values()])
    ConsentState.objects.filter(contact_id__in=contact_ids).delete()
    ConsentState.objects.bulk_create(
        ConsentState(
            contact_id=event.contact_id,
            purpose_id=event.purpose_id,
            status=event.action,
            last_event=event,
            since=event.occurred_at,
        )
        for event in events.values()
    )
    return len(events)
