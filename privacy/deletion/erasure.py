"""Erasure of a data subject (GDPR art. 17), driven by the personal-data registry.

One transaction per subject: every declared model's rows of that person are deleted, anonymised or
kept under their legal ground, in dependency order (rows that point at other personal rows first,
the contact last, anonymised instead of deleted while a legal hold keeps rows pointing at it; see
`privacy.deletion.removal`); the address's keyed hash is added to the suppression list so no list
or form brings the person back (DESIGN rule 4); then every declared personal field of every table is
scanned for the subject's own identifiers (address and phone, never the name a namesake shares) in
rows that are not another person's, and the result is stored as an erasure certificate, which
holds counts, the method of the scan and the address's hash, never the data. Leftovers are a task
for the privacy officer (the certificate waits for review), not a sentence to the requester. A
second erasure of the same address changes nothing and returns the first certificate.
"""

import logging
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.events import EventKind, emit_event
from core.models import AuditEvent
from core.registry import Declaration, Retain, registry
from crm.models import Contact, Suppression
from crm.suppression import email_hash, suppress
from privacy.accountability.recipients import recipients_of
from privacy.deletion.removal import remove_subjects
from privacy.models import ErasureCertificate, SubjectRequest

TEXT_FIELDS = (models.CharField, models.TextField)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identifiers:
    """What identifies the subject alone: the e-mail address and the phone number.

    A name is not one: namesakes share it, and a scan by name counted another person's rows as
    the subject's leftovers.
    """

    email: str | None
    phone: str

    @classmethod
    def of(cls, contact: Contact) -> "Identifiers":
        return cls(email=contact.email, phone=contact.phone)


def erase_subject(
    *,
    contact: Contact,
    requested_by: Actor,
    channel: str,
    request: SubjectRequest | None = None,
) -> ErasureCertificate:
    """Erase the person through the registry, suppress the address, and certify it by a scan.

    The recipients of the person's data are read before it goes: the `contact.erased` event
    carries them, so each is told (art. 19) with its own reference, never the data.
    """
    identifiers = Identifiers.of(contact)
    contact_ref = contact.pk
    with transaction.atomic():
        recipients = recipients_of(contact_ref)
        # The same removal as retention: rows under a legal hold (invoices) stay until their date,
        # and the contact they point at is anonymised instead of deleted.
        # Records merged into this one keep their id (privacy.merging): they go with it.
        merged = Contact.objects.filter(merged_into_id=contact_ref).values_list("pk", flat=True)
        outcome = remove_subjects([contact_ref, *merged])
        removed, retained = dict(outcome.removed), outcome.retained
        if identifiers.email:
            suppress(email=identifiers.email, reason=Suppression.Reason.ERASURE)
        scan = scan_for_identifiers(identifiers, contact_ref=contact_ref)
        certificate = ErasureCertificate.objects.create(
            request=request,
            email_hash=email_hash(identifiers.email) if identifiers.email else "",
            contact_ref=contact_ref,
            requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
            removed=removed,
            retained=retained,
            scan=scan,
            scan_method=scan_method(),
            rows_found=sum(scan.values()),
        )
        record_audit(
            actor=requested_by,
            action=AuditEvent.Action.ERASED,
            obj=certificate,
            channel=channel,
            details={"contact": contact_ref, "rows_found": certificate.rows_found},
        )
        emit_event(
            EventKind.CONTACT_ERASED,
            contact_id=contact_ref,
            email_hash=certificate.email_hash,
            certificate=certificate.pk,
            request=request.pk if request is not None else None,
            recipients=recipients,
        )
    if certificate.rows_found:
        # A task for the officer (the certificate waits for review), never a line to the person.
        logger.warning(
            "Erasure certificate %s found %s leftover rows: review it in the admin",
            certificate.pk,
            certificate.rows_found,
        )
    return certificate


def erase_address(*, email: str, requested_by: Actor, channel: str) -> ErasureCertificate | None:
    """Erase the contact with this address; if already erased, return its certificate instead."""
    contact = Contact.objects.filter(email=email).first()
    if contact is not None:
        return erase_subject(contact=contact, requested_by=requested_by, channel=channel)
    return ErasureCertificate.objects.filter(email_hash=email_hash(email)).first()


def scan_for_identifiers(identifiers: Identifiers, *, contact_ref: int) -> dict[str, int]:
    """Count, per checked table, rows whose declared personal fields still hold an identifier.

    Only rows that are not another person's count: a row linked to a different contact (a
    colleague's record with the same switchboard number) is that person's data, not a leftover.
    Rows kept on a legal ground are not counted: they are listed as retained instead.
    """
    found = {}
    for declaration in registry:
        if isinstance(declaration.erasure, Retain):
            continue
        condition = _holds_identifier(declaration, identifiers)
        if condition is None:
            continue
        rows = declaration.model._base_manager.filter(condition)
        if declaration.subject is not None:
            owner = declaration.subject or "pk"
            rows = rows.filter(Q(**{f"{owner}__isnull": True}) | Q(**{owner: contact_ref}))
        found[declaration.label] = rows.count()
    return dict(sorted(found.items()))


def scan_method() -> dict[str, dict]:
    """Describe, per table, what the scan looked at and how, for the certificate."""
    method = {}
    for declaration in registry:
        if isinstance(declaration.erasure, Retain):
            method[declaration.label] = {"skipped": f"retained: {declaration.erasure.ground}"}
            continue
        fields = _text_fields(declaration)
        if not fields:
            continue
        opts = declaration.model._meta
        method[declaration.label] = {
            "fields": {
                name: "contains" if isinstance(opts.get_field(name), models.TextField) else "equals"
                for name in fields
            },
            "looked_for": ["e-mail address", "phone number"],
            "rows": "not linked to another contact"
            if declaration.subject is not None
            else "every row",
        }
    return dict(sorted(method.items()))


def _text_fields(declaration: Declaration) -> list[str]:
    """Return the declared text fields that can hold an address or phone, as the registry says."""
    opts = declaration.model._meta
    names = {f.name for f in opts.concrete_fields if isinstance(f, TEXT_FIELDS)}
    candidates = declaration.identifier_fields
    if candidates is None:
        candidates = declaration.fields
    return [name for name in candidates if name in names]


def _holds_identifier(declaration: Declaration, identifiers: Identifiers) -> Q | None:
    """Build the condition 'one of the declared text fields holds one of the identifiers'."""
    opts = declaration.model._meta
    condition = Q()
    for name in _text_fields(declaration):
        long_text = isinstance(opts.get_field(name), models.TextField)
        for value in (identifiers.email, identifiers.phone):
            if value:
                # Addresses and phones are stored normalised, so columns match exactly (indexed);
                # free text may mention them anywhere.
                lookup = "contains" if long_text else "exact"
                condition |= Q(**{f"{name}__{lookup}": value})
    return condition or None


def certificates_to_review() -> QuerySet[ErasureCertificate]:
    """Return the certificates whose scan found leftovers the officer has not yet dealt with."""
    return ErasureCertificate.objects.filter(rows_found__gt=0, reviewed_at__isnull=True)


def review_certificate(*, certificate: ErasureCertificate, actor: Actor) -> bool:
    """Record that the officer dealt with a certificate's leftovers; False if nothing to do."""
    if certificate.rows_found == 0 or certificate.reviewed_at is not None:
        return False
    with transaction.atomic():
        certificate.reviewed_at = timezone.now()
        certificate.reviewed_by = actor
        certificate.save(update_fields=["reviewed_at", "reviewed_by"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=certificate,
            channel="admin",
            fields=["reviewed_at"],
        )
    return True
