"""Opt-outs and the preference centre (GDPR art. 7(3), 21(2-3); RFC 8058 one-click unsubscribe).

Unsubscribing from one sender suppresses the address for that client only: that client's campaigns
can never reach it again, whatever list they supply. Unsubscribing from everything suppresses it
globally and withdraws every consent, each withdrawal a ledger event. In the preference centre
each consent purpose is switched on or off, again as ledger events; a globally suppressed address
can switch nothing on there and is pointed to the double opt-in instead. The person also decides
there whether we may record their opens and clicks of our e-mails: that is the `analytics`
purpose like any other, one switch, a ledger event with its wording (`privacy.consent.tracking`).
"""

from collections.abc import Iterable

from django.db import transaction

from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Client, Contact, Suppression
from crm.suppression import may_contact, suppress
from privacy.consent.ledger import (
    NO_METADATA,
    RequestMetadata,
    change_key,
    record_consent,
    withdraw_all,
)
from privacy.consent.subscriptions import offered_purposes
from privacy.models import ConsentEvent, ConsentState
from privacy.translations import reader_language, translated

UNSUBSCRIBE_ALL_WORDING = "Unsubscribe me from all e-mails."


def unsubscribe(
    *,
    contact: Contact,
    client: Client | None,
    channel: str,
    metadata: RequestMetadata = NO_METADATA,
    idempotency_key: str | None = None,
) -> None:
    """Stop e-mail from `client`, or from every sender when None; safe to repeat."""
    with transaction.atomic():
        if contact.email:
            suppress(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBE, client=client)
        if client is None:
            withdraw_all(
                contact=contact,
                channel=channel,
                wording=UNSUBSCRIBE_ALL_WORDING,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        record_audit(
            actor=None,
            action=AuditEvent.Action.CHANGED,
            obj=contact,
            channel=channel,
            details={"unsubscribed": True, "client": client.pk if client else None},
        )


def is_globally_suppressed(contact: Contact) -> bool:
    """Say whether the contact's address is suppressed for every sender."""
    return bool(contact.email) and not may_contact(email=contact.email)


def update_preferences(
    *,
    contact: Contact,
    granted: Iterable[str],
    metadata: RequestMetadata,
    idempotency_key: str,
) -> list[ConsentEvent]:
    """Switch each offered consent purpose on or off as ticked; return the events recorded."""
    wanted = set(granted)
    states = ConsentState.objects.filter(contact=contact).values_list(
        "purpose__code", "status", "last_event_id"
    )
    current = {code: (status, last_event_id) for code, status, last_event_id in states}
    suppressed = is_globally_suppressed(contact)
    events = []
    for purpose in offered_purposes():
        status, last_event_id = current.get(purpose.code, (None, None))
        is_on = status == ConsentEvent.Action.GRANT
        turn_on = purpose.code in wanted and not suppressed
        if turn_on == is_on:
            continue
        event, created = record_consent(
            contact=contact,
            purpose=purpose,
            action=ConsentEvent.Action.GRANT if turn_on else ConsentEvent.Action.WITHDRAW,
            # The page speaks the person's language: the sentence shown is the one recorded.
            wording=translated(purpose, "consent_text")
            if turn_on
            else f"Switched off in the preference centre: {purpose.name}.",
            language=reader_language(),
            channel=ConsentEvent.Channel.PREFERENCE_CENTRE,
            metadata=metadata,
            # Keyed on the state it changes, so the same page sent again with other choices
            # (back button, box changed) is recorded too.
            idempotency_key=change_key(idempotency_key, last_event_id),
        )
        if created:
            events.append(event)
    return events
