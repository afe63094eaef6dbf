"""Erasure of a data subject (GDPR art. 17), driven by the personal-data registry.

One transaction per subject: every declared model's rows of that person are deleted, anonymised or
kept under their legal ground, in dependency order (rows that point at other personal rows first,
the contact last, anonymised instead of deleted while a legal hold keeps rows pointing at it; see
`privacy.deletion.removal`); the address's keyed hash is added to the suppression list so no list
or form brings the person back (DESIGN rule 4); then every declared personal field of every table is
scanned for the subject's identifiers and the result is stored as an erasure certificate, which
holds counts and the address's hash, never the data. A second erasure of the same address changes
nothing and returns the first certificate.
"""

from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Q

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


@dataclass(frozen=True)
class Identifiers:
    """What identifies the subject in free text and columns: address, phone, full name."""

    email: str | None
    phone: str
    first_name: str
    last_name: str

    @classmethod
    def of(cls, contact: Contact) -> "Identifiers":
        return cls(
            email=contact.email,
            phone=contact.phone,
            first_name=contact.first_name.strip(),
            last_name=contact.last_name.strip(),
        )


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
        scan = scan_for_identifiers(identifiers)
        certificate = ErasureCertificate.objects.create(
            request=request,
            email_hash=email_hash(identifiers.email) if identifiers.email else "",
            contact_ref=contact_ref,
            requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
            removed=removed,
            retained=retained,
            scan=scan,
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
    return certificate


def erase_address(*, email: str, requested_by: Actor, channel: str) -> ErasureCertificate | None:
    """Erase the contact with this address; if already erased, return its certificate instead."""
    contact = Contact.objects.filter(email=email).first()
    if contact is not None:
        return erase_subject(contact=contact, requested_by=requested_by, channel=channel)
    return ErasureCertificate.objects.filter(email_hash=email_hash(email)).first()


def scan_for_identifiers(identifiers: Identifiers) -> dict[str, int]:
    """Count, per checked table, rows whose declared personal fields still hold an identifier.

    Rows kept on a legal ground are not counted: they are listed as retained instead.
    """
    found = {}
    for declaration in registry:
        if isinstance(declaration.erasure, Retain):
            continue
        condition = _holds_identifier(declaration, identifiers)
        if condition is not None:
            found[declaration.label] = declaration.model._base_manager.filter(condition).count()
    return dict(sorted(found.items()))


def _holds_identifier(declaration: Declaration, identifiers: Identifiers) -> Q | None:
    """Build the condition 'one of the declared text fields holds one of the identifiers'."""
    opts = declaration.model._meta
    names = {f.name for f in opts.concrete_fields if isinstance(f, TEXT_FIELDS)}
    fields = [name for name in declaration.fields if name in names]
    condition = Q()
    for name in fields:
        long_text = isinstance(opts.get_field(name), models.TextField)
        for value in (identifiers.email, identifiers.phone):
            if value:
                # Addresses and phones are stored normalised, so columns match exactly (indexed);
                # free text may mention them anywhere.
                lookup = "contains" if long_text else "exact"
                condition |= Q(**{f"{name}__{lookup}": value})
    if identifiers.first_name and identifiers.last_name:
        if {"first_name", "last_name"} <= set(fields):
            condition |= Q(
                first_name__iexact=identifiers.first_name, last_name__iexact=identifiers.last_name
            )
        full_name = f"{identifiers.first_name} {identifiers.last_name}"
        for name in fields:
            if isinstance(opts.get_field(name), models.TextField) or name == "object_repr":
                condition |= Q(**{f"{name}__icontains": full_name})
    return condition or None
