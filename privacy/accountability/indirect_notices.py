"""The art. 14 notice: telling people whose data we did not collect from them that we hold it.

GDPR art. 14(3): a person whose data comes from a business directory, a public website, social
media, a client's list, a business partner or a third-party service (`Source.INDIRECT_KINDS`) is
told who we are, where the data came from, the purposes and their legal basis, their rights and how
to object, within a reasonable period and at the latest one month after we obtained it, or at the
first message we send them if that is earlier. A daily beat task sends every pending notice, so a
person is normally told the day after collection; `notice_due_by` gives the legal latest date.

The notice is sent once per person, whatever the number of indirect sources: every pending
provenance row of the person is named in one e-mail, and each row's `informed_at` is set to today
in the batch transaction, before the mail is sent. A worker killed between the commit and the send
leaves the person marked informed and not mailed (at most once, as `privacy.consent.notices`); a
send that fails clears `informed_at` again, so tomorrow's run tries once more and the date never
claims a notice that did not go out.

The purposes named are the active ones based on legitimate interest (art. 6(1)(f)): that is the
ground on which we hold data we found or were given, and the one the person can object to (art.
21). Purposes based on consent do not apply until the person agrees, and the notice says so.

Skipped and counted, with `informed_at` left empty so `privacy_check` keeps showing them: people
without an address, whose address bounced or complained, whose processing is restricted (art. 18:
storage only), and people globally suppressed. A suppressed person told us "never contact me"
(unsubscribed from everything, objected, or marked our mail as spam); an unsolicited e-mail would
break that choice, so we respect it and leave the decision to the privacy officer, who can erase
the contact (art. 14(5)(b) when informing is impossible or disproportionate, documented).
"""

import logging
from dataclasses import asdict, dataclass
from datetime import date
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy, gettext_noop

from core.audit import record_audit
from core.dates import add_months
from core.models import AuditEvent
from core.outbox import enqueue_on_commit
from crm.models import Contact, ContactSource, Source
from crm.suppression import email_hash, suppressed_hashes
from privacy.consent.ledger import current_notice
from privacy.consent.tracking import tracking_statements
from privacy.deletion.retention import contact_retention_days
from privacy.links import preferences_url
from privacy.models import Purpose

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
NOTICE_SUBJECT = gettext_noop("Why we hold your contact details")
# The contact fields the notice names as "the data we hold" when they are filled (art. 14(1)(d)).
DATA_FIELDS = (
    ("last_name", gettext_lazy("your name")),
    ("email", gettext_lazy("your e-mail address")),
    ("phone", gettext_lazy("your phone number")),
    ("job_title", gettext_lazy("your job title")),
    ("company_id", gettext_lazy("the company you work for")),
    ("country", gettext_lazy("your country")),
)


def notice_due_by(contact_source: ContactSource) -> date:
    """Return the last day the person may be told: one month after collection (art. 14(3)(a))."""
    return add_months(contact_source.collected_at, 1).date()


def pending_provenance() -> QuerySet[ContactSource]:
    """Return the provenance rows from indirect sources whose person has not been told yet."""
    return ContactSource.objects.filter(
        source__kind__in=Source.INDIRECT_KINDS, informed_at__isnull=True
    )


def contacts_awaiting_notice() -> QuerySet[Contact]:
    """Return the contacts with at least one indirect provenance row not yet notified."""
    return Contact.objects.filter(Exists(pending_provenance().filter(contact=OuterRef("pk"))))


@dataclass
class NoticeCounts:
    """What one run did: notices sent and failed, people skipped by reason. Counts only."""

    sent: int = 0
    failed: int = 0
    no_email: int = 0
    undeliverable: int = 0
    restricted: int = 0
    suppressed: int = 0
    # The last contact id examined; the next batch starts after it. None when none was left.
    last_contact_id: int | None = None


def send_indirect_notices(
    *, batch_size: int | None = None, after_contact_id: int = 0
) -> dict[str, Any]:
    """Send the art. 14 notice to the next batch of pending people once each; return counts.

    Examines up to `batch_size` (default BATCH_SIZE) people with a pending indirect provenance row,
    in id order after `after_contact_id`; `last_contact_id` in the answer is where the next batch
    starts (None when nobody was left). Each batch is one transaction; mails go out after it.
    """
    counts = NoticeCounts()
    today = timezone.localdate()
    with transaction.atomic():
        people = list(
            contacts_awaiting_notice()
            .filter(pk__gt=after_contact_id)
            .order_by("pk")[: batch_size or BATCH_SIZE]
        )
        if not people:
            return asdict(counts)
        counts.last_contact_id = people[-1].pk
        eligible = _eligible(people, counts)
        # Locked, then read again: a concurrent run waits here and finds these rows informed.
        rows = list(
            pending_provenance()
            .select_for_update(of=("self",))
            .filter(contact__in=[c.pk for c in eligible])
            .select_related("source", "source__client")
            .order_by("contact_id", "collected_at", "pk")
        )
        by_contact: dict[int, list[ContactSource]] = {}
        for row in rows:
            by_contact.setdefault(row.contact_id, []).append(row)
        ContactSource.objects.filter(pk__in=[row.pk for row in rows]).update(informed_at=today)
        for row in rows:
            _audit(row, informed=True)
    purposes = list(
        Purpose.objects.filter(
            is_active=True, legal_basis=Purpose.LegalBasis.LEGITIMATE_INTEREST
        ).order_by("name")
    )
    for contact in eligible:
        sources = by_contact.get(contact.pk)
        if not sources:
            continue  # told by a concurrent run
        try:
            _mail_notice(contact, sources, purposes)
        except OSError:
            logger.warning("art. 14 notice to contact %s failed", contact.pk)
            counts.failed += 1
            with transaction.atomic():
                ContactSource.objects.filter(pk__in=[row.pk for row in sources]).update(
                    informed_at=None
                )
                for row in sources:
                    _audit(row, informed=False)
        else:
            counts.sent += 1
    return asdict(counts)


def send_indirect_notices_and_queue_next(
    *, after_contact_id: int = 0, totals: dict[str, int] | None = None
) -> dict[str, Any]:
    """Send one batch of art. 14 notices, then queue the next until every pending one is handled.

    `totals` adds up the counts of the run's earlier batches; the last batch logs them. Return
    this batch's counts and `last_contact_id` (None once nobody was left).
    """
    counts = send_indirect_notices(after_contact_id=after_contact_id)
    position = counts.pop("last_contact_id")
    totals = {name: (totals or {}).get(name, 0) + value for name, value in counts.items()}
    if position is not None:
        enqueue_on_commit(
            "privacy.tasks.mail_indirect_notices", after_contact_id=position, totals=totals
        )
    else:
        logger.info("art. 14 notices: %s", ", ".join(f"{k}={v}" for k, v in totals.items()))
    return {**counts, "last_contact_id": position}


def send_due_notices_now(*, actor) -> int:
    """Queue every pending art. 14 notice now instead of at 09:00, audited; return how many wait.

    The worker sends them in the same batches as the daily task, once per person. Refused with a
    `ValidationError` while no privacy statement is published: the notice points people at it.
    """
    statement = current_notice()
    if statement is None:
        raise ValidationError("Publish a privacy statement first: every notice links to it.")
    waiting = contacts_awaiting_notice().count()
    with transaction.atomic():
        if waiting:
            enqueue_on_commit("privacy.tasks.mail_indirect_notices")
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=statement,
            channel=AuditEvent.Channel.ADMIN,
            details={"indirect_notices_now": waiting},
        )
    return waiting


def _eligible(people: list[Contact], counts: NoticeCounts) -> list[Contact]:
    """Return the people we may mail; count the others by the reason they are skipped."""
    hashes: dict[int, str] = {}
    for contact in people:
        try:
            hashes[contact.pk] = email_hash(contact.email or "")
        except ValidationError:  # no address (or, against every entry point, an invalid one)
            counts.no_email += 1
    suppressed = suppressed_hashes(hashes.values())
    eligible = []
    for contact in people:
        if contact.pk not in hashes:
            continue
        if hashes[contact.pk] in suppressed:
            counts.suppressed += 1
        elif contact.email_status != Contact.EmailStatus.VALID:
            counts.undeliverable += 1
        elif contact.is_restricted:
            counts.restricted += 1
        else:
            eligible.append(contact)
    return eligible


def _audit(row: ContactSource, *, informed: bool) -> None:
    record_audit(
        actor=None,
        action=AuditEvent.Action.CHANGED,
        obj=row,
        channel="task",
        fields=["informed_at"],
        details={"art14_notice": "sent" if informed else "failed"},
    )


def notice_context(
    contact: Contact, sources: list[ContactSource], purposes: list[Purpose]
) -> dict[str, Any]:
    """Return what the notice shows: us, the sources, purposes, data and the person's rights."""
    sender_name, sender_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return {
        "first_name": contact.first_name,
        "sender_name": sender_name or settings.SITE_URL,
        "sender_address": sender_address,
        "site_url": settings.SITE_URL,
        "privacy_url": f"{settings.SITE_URL}{reverse('privacy')}",
        "request_url": f"{settings.SITE_URL}{reverse('privacy-request-new')}",
        "preferences_url": preferences_url(contact),
        "sources": sources,
        "purposes": purposes,
        # What is tracked in our e-mails and in those of the clients who supplied the person.
        "tracking": tracking_statements(
            {row.source.client for row in sources if row.source.client is not None}
        ),
        "kept_days": contact_retention_days(contact.relationship),
        "data": [
            str(label)
            for name, label in DATA_FIELDS
            if getattr(contact, name) or (name == "last_name" and contact.first_name)
        ],
    }


def _mail_notice(contact: Contact, sources: list[ContactSource], purposes: list[Purpose]) -> None:
    with translation.override(contact.language or None):
        EmailMessage(
            subject=translation.gettext(NOTICE_SUBJECT),
            body=render_to_string(
                "emails/indirect_notice.txt", notice_context(contact, sources, purposes)
            ),
            to=[contact.email],
        ).send()
