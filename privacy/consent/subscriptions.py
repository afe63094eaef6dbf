"""Subscribe with explicit permission and double opt-in (GDPR art. 6(1)(a), 7; ePrivacy art. 13).

The public form sends a confirmation link and stores nothing: the pending subscription lives in
the signed link itself, so an address typed by someone else leaves no trace here. Only the click
creates or updates the contact and records the grants, with the wording and notice version shown
on the form. The form answers identically for every address, known, subscribed or suppressed; a
globally suppressed address comes back only through that click, which lifts the suppression and
records why.

The mail leaves from the worker, not the web request, so the form's timing says nothing about
the address either, and a mail server or broker that is away loses no confirmation: the task is
queued through the outbox (`core.outbox`) and waits there until the broker takes it. The queued
task carries the signed token and nothing else, see `request_subscription`.
"""

import hashlib
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.audit import record_audit
from core.models import AuditEvent
from core.normalisation import normalise_email
from core.outbox import enqueue_on_commit
from crm.activity import record_activity
from crm.models import Contact, Source
from crm.provenance import create_contact_with_provenance
from crm.suppression import lift_global_suppression
from privacy.consent.ledger import RequestMetadata, current_notice, record_consent
from privacy.links import (
    ExpiredLink,
    SubscriptionRequest,
    confirmation_url,
    read_subscription_token,
    subscription_token,
)
from privacy.models import ConsentEvent, NoticeVersion, Purpose
from privacy.translations import reader_language, translated

SUBSCRIPTION_SOURCE = "Subscription form"
CONFIRMATION_TASK = "privacy.tasks.send_subscription_confirmation"
logger = logging.getLogger(__name__)


class WordingChanged(Exception):
    """The consent wording or the purposes changed between the form and the click."""


@dataclass(frozen=True)
class Confirmation:
    """The outcome of a click on a confirmation link."""

    contact: Contact
    purposes: tuple[Purpose, ...]
    already_confirmed: bool


def offered_purposes() -> list[Purpose]:
    """Return the purposes a person can consent to on the public forms."""
    return list(
        Purpose.objects.filter(is_active=True, legal_basis=Purpose.LegalBasis.CONSENT)
        .exclude(consent_text="")
        .order_by("name")
    )


def wording_digest(
    purposes: Iterable[Purpose], notice: NoticeVersion | None, language: str = "en"
) -> str:
    """Return a short digest of the wording shown for these purposes, in that language."""
    text = "\n".join(
        f"{p.code}:{translated(p, 'consent_text', language)}"
        for p in sorted(purposes, key=lambda p: p.code)
    )
    version = notice.version if notice else ""
    return hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()[:16]


def request_subscription(
    *, email: str, name: str, purpose_codes: Iterable[str], language: str
) -> None:
    """Queue the confirmation mail for the chosen purposes; store nothing until it is clicked."""
    address = normalise_email(email)
    codes = sorted(set(purpose_codes))
    purposes = [p for p in offered_purposes() if p.code in codes]
    if not purposes or len(purposes) != len(codes):
        raise ValidationError({"purposes": "Tick at least one of the boxes offered."})
    notice = current_notice()
    token = subscription_token(
        SubscriptionRequest(
            email=address,
            name=name.strip()[:200],
            purposes=tuple(codes),
            notice_version=notice.version if notice else "",
            wording_digest=wording_digest(purposes, notice, language),
            language=language,
        )
    )
    # The worker needs the address to mail it, and a pending subscription has no row to name by
    # id: the task carries the signed token, the very link the mail holds. It is signed, not
    # encrypted, so its outbox row holds the address, name and purposes readably until the broker
    # takes it (at once, or when an outage ends); publishing deletes the row, and the link's
    # expiry ends its use.
    enqueue_on_commit(CONFIRMATION_TASK, token)


def send_confirmation_mail(*, token: str) -> bool:
    """Mail the confirmation link of a pending subscription; return False if it expired unsent."""
    try:
        pending = read_subscription_token(token)
    except ExpiredLink:
        # The broker was away longer than a link lives: a dead link is no use to anyone.
        logger.warning("a subscription confirmation expired before it could be mailed")
        return False
    purposes = [p for p in offered_purposes() if p.code in pending.purposes]
    context = {"name": pending.name, "purposes": purposes, "url": confirmation_url(token)}
    with translation.override(pending.language):
        message = EmailMultiAlternatives(
            subject=translation.gettext("Please confirm your subscription"),
            body=render_to_string("emails/subscribe_confirm.txt", context),
            to=[pending.email],
        )
        message.attach_alternative(
            render_to_string("emails/subscribe_confirm.html", context), "text/html"
        )
    try:
        message.send()
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError):
        raise  # the mail server is away: the task tries again
    except smtplib.SMTPException as exc:
        # Refused for good; the server's text may quote the address, so only its code is logged.
        code = getattr(exc, "smtp_code", "")
        logger.warning("a subscription confirmation was refused: %s %s", type(exc).__name__, code)
        return False
    return True


def confirm_subscription(*, token: str, metadata: RequestMetadata) -> Confirmation:
    """Grant the consents a confirmation link carries; a second click changes nothing.

    Raise `privacy.links.InvalidLink`, `privacy.links.ExpiredLink` or `WordingChanged`.
    """
    pending = read_subscription_token(token)
    key = hashlib.sha256(token.encode()).hexdigest()
    # A purpose retired since the form was shown is a changed offer, like changed wording.
    purposes = tuple(
        Purpose.objects.filter(code__in=pending.purposes, is_active=True).order_by("name")
    )
    notice = NoticeVersion.objects.filter(version=pending.notice_version).first()
    already = ConsentEvent.objects.filter(idempotency_key=key).select_related("contact").first()
    if already is not None:
        return Confirmation(contact=already.contact, purposes=purposes, already_confirmed=True)
    if len(purposes) != len(pending.purposes) or (
        wording_digest(purposes, notice, pending.language) != pending.wording_digest
    ):
        raise WordingChanged
    with transaction.atomic():
        lifted = lift_global_suppression(
            email=pending.email,
            why=f"Re-subscribed by double opt-in on {timezone.now():%Y-%m-%d}",
        )
        contact = _subscriber(pending)
        if lifted:
            record_audit(
                actor=None,
                action=AuditEvent.Action.CHANGED,
                obj=contact,
                channel=ConsentEvent.Channel.DOUBLE_OPT_IN,
                details={"suppression_lifted": True},
            )
        for purpose in purposes:
            record_consent(
                contact=contact,
                purpose=purpose,
                action=ConsentEvent.Action.GRANT,
                # The sentence the person read, in the language of the form they filled in.
                wording=translated(purpose, "consent_text", pending.language),
                language=reader_language(pending.language),
                channel=ConsentEvent.Channel.DOUBLE_OPT_IN,
                notice_version=notice,
                metadata=metadata,
                idempotency_key=key,
            )
        record_activity(contact=contact)
    return Confirmation(contact=contact, purposes=purposes, already_confirmed=False)


def _subscriber(pending: SubscriptionRequest) -> Contact:
    """Return the contact with the address, creating it (with provenance) if there is none."""
    contact = Contact.objects.filter(email=pending.email).first()
    if contact is not None:
        return contact
    first, _, last = pending.name.partition(" ")
    return create_contact_with_provenance(
        actor=None,
        channel=ConsentEvent.Channel.DOUBLE_OPT_IN,
        contact_values={
            "email": pending.email,
            "first_name": first[:100],
            "last_name": last[:100],
            "language": pending.language,
            "relationship": Contact.Relationship.SUBSCRIBER,
            # The person's own double opt-in is how a suppressed address comes back.
            "allow_suppressed": True,
        },
        source_kind=Source.Kind.WEB_FORM,
        source_name=SUBSCRIPTION_SOURCE,
        reference="/subscribe/",
    )
