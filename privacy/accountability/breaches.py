"""Personal-data breaches: record one, list the people affected, tell the authority and the people.

GDPR art. 33(1): the supervisory authority is told without undue delay and, where feasible, within
72 hours of the controller becoming aware of the breach; a later notification carries the reasons
for the delay, so `mark_authority_notified` refuses a late one without them. Art. 33(5): every
breach is documented (facts, effects, remedial action), so a `Breach` is never deleted and a closed
one is read-only. Art. 34: when the breach is likely to result in a high risk, the people are told
without undue delay, in clear and plain language: what happened, which data, the likely
consequences, the measures taken, and whom to contact. `notify_subjects` refuses to start until
those are written down.

Each step is one function that writes its `AuditEvent` in the same transaction (ids, counts and
flags only). The people are mailed by the worker, one bounded batch per task, following
`privacy.consent.notices`: each `BreachSubject` is claimed (`notified_at` set) in a committed
transaction before its mail is sent, so a worker killed half-way or a second "notify" click mails
nobody twice. A failed send is marked `failed` and never retried automatically: the officer reaches
those people another way (art. 34(3)(c) allows a public communication). People without an address,
or whose address bounced, are marked failed at once for the same reason.

A breach notice is a legal obligation, not marketing: it goes to every affected person with a
usable address, also to those who unsubscribed, complained or are restricted (art. 18(1) allows
processing to protect their rights). It carries only what the officer wrote about the breach and
the recipient's own first name, never anything about another affected person.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from core.normalisation import normalise_email
from core.outbox import enqueue_on_commit
from crm.models import Client, Company, Contact, ContactSource, Source
from privacy.models import Breach, BreachSubject

logger = logging.getLogger(__name__)

# The fields the officer writes; the rest changes only through the functions below.
DESCRIPTION_FIELDS = (
    "title",
    "detected_at",
    "description",
    "data_categories",
    "likely_consequences",
    "measures",
    "high_risk",
)
CHUNK = 2000
# A pasted list larger than this is refused: split it, or select by source, client or company.
MAX_PASTED_ADDRESSES = 10_000


# Recording and describing ----------------------------------------------------------------------


def record_breach(
    *,
    title: str,
    detected_at: datetime,
    description: str,
    data_categories: str,
    actor: Actor,
    channel: str,
    likely_consequences: str = "",
    measures: str = "",
    high_risk: bool = False,
) -> Breach:
    """Record a breach as detected at `detected_at`; its 72-hour clock starts then."""
    _check_detected_at(detected_at)
    with transaction.atomic():
        breach = Breach.objects.create(
            title=title,
            detected_at=detected_at,
            description=description,
            data_categories=data_categories,
            likely_consequences=likely_consequences,
            measures=measures,
            high_risk=high_risk,
        )
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CREATED,
            obj=breach,
            channel=channel,
            details={"high_risk": high_risk},
        )
    return breach


def update_breach(*, breach: Breach, actor: Actor, channel: str, **changes: Any) -> Breach:
    """Change what the officer wrote about an open breach; audit the names of changed fields."""
    unknown = set(changes) - set(DESCRIPTION_FIELDS)
    if unknown:
        raise ValueError(f"Not a field the officer writes: {sorted(unknown)}")
    _check_open(breach)
    changed = [name for name, value in changes.items() if getattr(breach, name) != value]
    if not changed:
        return breach
    if "detected_at" in changed:
        if breach.authority_notified_at is not None:
            raise ValidationError(
                {
                    "detected_at": "The authority was told already; the detection time it was "
                    "given cannot change here."
                }
            )
        _check_detected_at(changes["detected_at"])
    with transaction.atomic():
        for name in changed:
            setattr(breach, name, changes[name])
        breach.save(update_fields=changed)
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=breach,
            channel=channel,
            fields=changed,
        )
    return breach


# Finding the people affected -------------------------------------------------------------------


def affected_by_source(*, source: Source) -> QuerySet[Contact]:
    """Return the contacts with a provenance record from `source`."""
    provenance = ContactSource.objects.filter(contact=OuterRef("pk"), source=source)
    return Contact.objects.filter(Exists(provenance))


def affected_by_client(*, client: Client) -> QuerySet[Contact]:
    """Return the contacts whose provenance is a list supplied by `client`."""
    provenance = ContactSource.objects.filter(contact=OuterRef("pk"), source__client=client)
    return Contact.objects.filter(Exists(provenance))


def affected_by_company(*, company: Company) -> QuerySet[Contact]:
    """Return the contacts who work for `company`."""
    return Contact.objects.filter(company=company)


@dataclass(frozen=True)
class AddressMatch:
    """The contacts a pasted list of addresses names, and how many addresses matched nobody."""

    contact_ids: list[int]
    unknown: int
    invalid: int

    @property
    def contacts(self) -> QuerySet[Contact]:
        """Return the matched contacts as a queryset."""
        return Contact.objects.filter(pk__in=self.contact_ids)


def affected_by_addresses(*, addresses: Iterable[str]) -> AddressMatch:
    """Match normalised addresses to contacts; count, never keep, the unknown and invalid ones."""
    wanted: set[str] = set()
    invalid = 0
    for raw in addresses:
        if not raw.strip():
            continue
        try:
            wanted.add(normalise_email(raw))
        except ValidationError:
            invalid += 1
    if len(wanted) > MAX_PASTED_ADDRESSES:
        raise ValidationError(
            f"Paste at most {MAX_PASTED_ADDRESSES:,} addresses at a time, or select the people "
            "by source, client or company."
        )
    ordered = sorted(wanted)
    found: dict[str, int] = {}
    for start in range(0, len(ordered), CHUNK):
        rows = Contact.objects.filter(email__in=ordered[start : start + CHUNK])
        found.update(rows.values_list("email", "pk"))
    return AddressMatch(
        contact_ids=sorted(found.values()), unknown=len(wanted) - len(found), invalid=invalid
    )


def add_affected_subjects(
    *,
    breach: Breach,
    contacts: QuerySet[Contact],
    actor: Actor,
    channel: str,
    selection: dict[str, Any] | None = None,
) -> int:
    """Link the contacts to the breach as affected; return how many were not linked already.

    `selection` says how they were chosen (kind of query and ids, never addresses) for the audit.
    """
    _check_open(breach)
    added = 0
    last = 0
    with transaction.atomic():
        while True:
            chunk = list(
                contacts.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]
            )
            if not chunk:
                break
            last = chunk[-1]
            listed = set(
                BreachSubject.objects.filter(breach=breach, contact_id__in=chunk).values_list(
                    "contact_id", flat=True
                )
            )
            new = [pk for pk in dict.fromkeys(chunk) if pk not in listed]
            BreachSubject.objects.bulk_create(
                [BreachSubject(breach=breach, contact_id=pk) for pk in new],
                ignore_conflicts=True,  # added by a concurrent request: already affected
            )
            added += len(new)
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=breach,
            channel=channel,
            details={"affected_added": added, **(selection or {})},
        )
    return added


# Telling the authority --------------------------------------------------------------------------


def mark_authority_notified(
    *,
    breach: Breach,
    at: datetime,
    reference: str,
    actor: Actor,
    channel: str,
    delay_reason: str = "",
) -> Breach:
    """Record when the authority was told; after 72 hours a delay reason is required (33(1))."""
    _check_open(breach)
    if breach.authority_notified_at is not None:
        raise ValidationError(
            f"The authority was already told, on {_local(breach.authority_notified_at)}."
        )
    if at < breach.detected_at:
        raise ValidationError({"at": "The authority cannot have been told before detection."})
    if at > timezone.now():
        raise ValidationError({"at": "This time is in the future."})
    late = at > breach.authority_deadline
    if late and not delay_reason.strip():
        raise ValidationError(
            {
                "delay_reason": "The authority was told more than 72 hours after detection: "
                "give the reasons for the delay (art. 33(1))."
            }
        )
    with transaction.atomic():
        breach.authority_notified_at = at
        breach.authority_reference = reference.strip()
        breach.delay_reason = delay_reason.strip()
        breach.save(update_fields=["authority_notified_at", "authority_reference", "delay_reason"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=breach,
            channel=channel,
            fields=["authority_notified_at", "authority_reference", "delay_reason"],
            details={"authority_notified": True, "late": late},
        )
    return breach


def deadline_status(breach: Breach, *, now: datetime | None = None) -> str:
    """Say where the breach stands against its 72-hour authority deadline, in plain words."""
    if breach.authority_notified_at is not None:
        told = f"told on {_local(breach.authority_notified_at)}"
        return (
            f"{told} (late)" if breach.authority_notified_at > breach.authority_deadline else told
        )
    if breach.closed_at is not None:
        return "closed without telling the authority"
    left = breach.authority_deadline - (now or timezone.now())
    if left > timedelta(0):
        return f"{_duration(left)} left"
    return f"OVERDUE by {_duration(-left)}"


def _duration(span: timedelta) -> str:
    # Whole minutes, rounded down: the time left is never overstated.
    minutes = int(span.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %b %Y %H:%M}"


# Telling the people -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectCounts:
    """How many people a breach affects, and how many were told, failed or are waiting."""

    affected: int
    told: int
    failed: int
    waiting: int


def subject_counts(breach: Breach) -> SubjectCounts:
    """Count the breach's affected people by notification state, in one query."""
    counts = BreachSubject.objects.filter(breach=breach).aggregate(
        affected=Count("pk"),
        told=Count("pk", filter=Q(notified_at__isnull=False)),
        failed=Count("pk", filter=Q(failed=True)),
    )
    return SubjectCounts(
        affected=counts["affected"],
        told=counts["told"],
        failed=counts["failed"],
        waiting=counts["affected"] - counts["told"] - counts["failed"],
    )


def notify_subjects(*, breach: Breach, actor: Actor, channel: str) -> int:
    """Queue the mail to every affected person not told yet; return how many are waiting."""

    _check_open(breach)
    missing = [
        name
        for name in ("description", "data_categories", "likely_consequences", "measures")
        if not getattr(breach, name).strip()
    ]
    if missing:
        raise ValidationError(
            {
                name: "Art. 34(2): the people must be told this; write it before notifying them."
                for name in missing
            }
        )
    waiting = subject_counts(breach).waiting
    if not waiting:
        raise ValidationError("Nobody is waiting to be told: add the affected people first.")
    with transaction.atomic():
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=breach,
            channel=channel,
            details={"subjects_notification_queued": waiting},
        )
        enqueue_on_commit("privacy.tasks.mail_breach_notice", breach.pk)
    return waiting


def send_breach_notice_batch(*, breach_id: int, batch_size: int = 200) -> int:
    """Mail the next batch of affected people once each; return how many were handled."""
    breach = Breach.objects.get(pk=breach_id)
    with transaction.atomic():
        # On PostgreSQL a concurrent batch waits here and then skips the rows this one claims.
        batch = list(
            BreachSubject.objects.select_for_update(of=("self",))
            .filter(breach=breach, notified_at__isnull=True, failed=False)
            .select_related("contact")
            .order_by("pk")[:batch_size]
        )
        unreachable = [s for s in batch if not _reachable(s.contact)]
        to_mail = [s for s in batch if _reachable(s.contact)]
        BreachSubject.objects.filter(pk__in=[s.pk for s in unreachable]).update(failed=True)
        BreachSubject.objects.filter(pk__in=[s.pk for s in to_mail]).update(
            notified_at=timezone.now()
        )
        if batch:
            record_audit(
                actor=None,
                action=AuditEvent.Action.CHANGED,
                obj=breach,
                channel="task",
                details={"subjects_mailed": len(to_mail), "subjects_unreachable": len(unreachable)},
            )
    failed = []
    for subject in to_mail:
        try:
            _mail_breach_notice(breach, subject.contact)
        except OSError:
            logger.warning("breach %s: mail to contact %s failed", breach.pk, subject.contact_id)
            failed.append(subject.pk)
    if failed:
        with transaction.atomic():
            BreachSubject.objects.filter(pk__in=failed).update(failed=True, notified_at=None)
            record_audit(
                actor=None,
                action=AuditEvent.Action.CHANGED,
                obj=breach,
                channel="task",
                details={"subjects_mail_failed": len(failed)},
            )
    return len(batch)


def send_breach_notices_and_queue_next(*, breach_id: int) -> int:
    """Mail one batch of a breach's affected people, then queue the next until all are handled.

    Return how many this batch handled; the chain ends with a batch that handles nobody.
    """
    handled = send_breach_notice_batch(breach_id=breach_id)
    if handled:
        enqueue_on_commit("privacy.tasks.mail_breach_notice", breach_id)
    return handled


def _reachable(contact: Contact) -> bool:
    return bool(contact.email) and contact.email_status != Contact.EmailStatus.BOUNCED


def breach_notice_context(breach: Breach, contact: Contact | None) -> dict[str, Any]:
    """Return what the breach e-mail shows: the breach, whom to contact, the recipient's name."""
    return {
        "breach": breach,
        "first_name": contact.first_name if contact is not None else "",
        "contact_address": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        "request_url": f"{settings.SITE_URL}{reverse('privacy-request-new')}",
        "site_url": settings.SITE_URL,
    }


def render_breach_notice(breach: Breach, contact: Contact | None = None) -> str:
    """Return the body of the breach e-mail (for `contact`, or as a preview for the officer)."""
    return render_to_string("emails/breach_notice.txt", breach_notice_context(breach, contact))


BREACH_NOTICE_SUBJECT = gettext_noop("Important: an incident concerning your personal data")


def _mail_breach_notice(breach: Breach, contact: Contact) -> None:
    with translation.override(contact.language or None):
        EmailMessage(
            subject=translation.gettext(BREACH_NOTICE_SUBJECT),
            body=render_breach_notice(breach, contact),
            to=[contact.email],
        ).send()


# Closing ----------------------------------------------------------------------------------------


def close_breach(*, breach: Breach, actor: Actor, channel: str, reason: str = "") -> Breach:
    """Close the breach; refuse while high-risk people wait, or without the authority's reason.

    Closing without having told the authority needs `reason` (art. 33(1): unlikely to result in
    a risk); it is kept on the audit event, the breach's own record of that decision.
    """
    _check_open(breach)
    if breach.authority_notified_at is None and not reason.strip():
        raise ValidationError(
            {
                "reason": "The authority was not told: say why the breach is unlikely to result "
                "in a risk to people (art. 33(1))."
            }
        )
    waiting = subject_counts(breach).waiting
    if breach.high_risk and waiting:
        raise ValidationError(
            f"{waiting} affected people have not been told yet; a high-risk breach is closed once "
            "they are (art. 34)."
        )
    with transaction.atomic():
        breach.closed_at = timezone.now()
        breach.save(update_fields=["closed_at"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=breach,
            channel=channel,
            reason=reason.strip()[:500],
            fields=["closed_at"],
            details={
                "closed": True,
                "authority_notified": breach.authority_notified_at is not None,
            },
        )
    return breach


def _check_open(breach: Breach) -> None:
    if breach.closed_at is not None:
        raise ValidationError(f"This breach was closed on {_local(breach.closed_at)}.")


def _check_detected_at(detected_at: datetime) -> None:
    if detected_at > timezone.now():
        raise ValidationError({"detected_at": "The detection time is in the future."})
