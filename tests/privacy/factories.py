"""Factories for the privacy app: purposes, notice versions, and consents given the real way.

The tests must not depend on the purposes and notice seeded by migration 0003: a transactional
test (a real worker, a live server) flushes them for every test that runs after it. Each test makes
its own purposes and its own notice, which is the current one because it is the latest effective.
"""

import factory
from django.utils import timezone

from crm.models import Contact
from privacy.consent.ledger import RequestMetadata, record_consent
from privacy.models import ConsentEvent, NoticeVersion, Purpose
from tests.crm.factories import ClientFactory, ContactFactory

__all__ = [
    "ClientFactory",
    "ContactFactory",
    "NoticeVersionFactory",
    "PurposeFactory",
    "grant",
    "withdraw",
]


class PurposeFactory(factory.django.DjangoModelFactory):
    """A consent purpose with its own wording; pass legal_basis for the other kinds."""

    class Meta:
        model = Purpose

    code = factory.Sequence(lambda n: f"letter_{n}")
    name = factory.Sequence(lambda n: f"Letter {n}")
    description = factory.LazyAttribute(lambda p: f"Sending the {p.name} by e-mail.")
    legal_basis = Purpose.LegalBasis.CONSENT
    consent_text = factory.LazyAttribute(
        lambda p: f"Yes, send me the {p.name} by e-mail. I can unsubscribe at any time."
    )


class NoticeVersionFactory(factory.django.DjangoModelFactory):
    """A published privacy statement in force since now; `published_at=None` for a draft."""

    class Meta:
        model = NoticeVersion

    version = factory.Sequence(lambda n: f"2030.{n}")
    title = "Privacy statement"
    body = factory.LazyAttribute(
        lambda n: (
            f"Version {n.version} of how we handle your data.\n\n"
            "We keep only what we need and delete it when a rule says so."
        )
    )
    summary_of_changes = "We now also send a quarterly newsletter."
    translations = factory.LazyAttribute(
        lambda n: {
            "nl": {
                "title": "Privacyverklaring",
                "body": f"Versie {n.version} van hoe wij met uw gegevens omgaan.",
                "summary_of_changes": "Wij sturen nu ook een nieuwsbrief per kwartaal.",
            },
            "ro": {
                "title": "Declarație de confidențialitate",
                "body": f"Versiunea {n.version} a modului în care tratăm datele dumneavoastră.",
                "summary_of_changes": "Acum trimitem și un buletin informativ trimestrial.",
            },
        }
    )
    effective_at = factory.LazyFunction(timezone.now)
    published_at = factory.LazyFunction(timezone.now)


def _dated(kwargs: dict) -> dict:
    """Give an event dated in the past the reason the ledger asks of a backdated entry."""
    if "occurred_at" in kwargs:
        kwargs.setdefault("backdate_reason", "Recorded from the signed form on file.")
    return kwargs


def grant(contact: Contact, purpose: Purpose, **kwargs) -> ConsentEvent:
    """Record a web-form grant of `purpose` through the ledger's own function."""
    _dated(kwargs)
    event, _ = record_consent(
        contact=contact,
        purpose=purpose,
        action=ConsentEvent.Action.GRANT,
        wording=purpose.consent_text,
        channel=kwargs.pop("channel", ConsentEvent.Channel.WEB_FORM),
        metadata=kwargs.pop("metadata", RequestMetadata(user_agent="Factory/1.0")),
        **kwargs,
    )
    return event


def withdraw(contact: Contact, purpose: Purpose, **kwargs) -> ConsentEvent:
    """Record a preference-centre withdrawal of `purpose` through the ledger's own function."""
    _dated(kwargs)
    event, _ = record_consent(
        contact=contact,
        purpose=purpose,
        action=ConsentEvent.Action.WITHDRAW,
        wording=f"Switched off: {purpose.name}.",
        channel=kwargs.pop("channel", ConsentEvent.Channel.PREFERENCE_CENTRE),
        **kwargs,
    )
    return event
