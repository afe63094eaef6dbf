"""Find records that may be the same person: the candidates staff may merge (privacy/merging.py).

Three signals, each answered by an index: the e-mail address without its "+tag" (the unique
e-mail index, by prefix), the phone number in E.164 form (`crm_contact_phone_given`, of the
numbers given), and the same first and last name at the same company (`crm_contact_company`).
Records already merged away or anonymised by an erasure are never candidates.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from crm.models import Contact


@dataclass(frozen=True)
class Candidate:
    """Another record that may be the same person, and why it was found."""

    contact: Contact
    reasons: tuple[str, ...]


def live_contacts() -> QuerySet[Contact]:
    """Return the contacts still in use: neither merged into another nor anonymised by erasure."""
    return Contact.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)


def email_base(email: str | None) -> tuple[str, str] | None:
    """Return (local part without its "+tag", domain) of a normalised address, or None."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    return local.split("+", 1)[0], domain


def duplicate_candidates(contact: Contact, *, limit: int = 20) -> list[Candidate]:
    """Return other live records that share the contact's address, phone, or name and company."""
    signals: list[tuple[str, Q]] = []
    base = email_base(contact.email)
    if base is not None:
        local, domain = base
        same_address = Q(email=f"{local}@{domain}") | Q(
            email__startswith=f"{local}+", email__endswith=f"@{domain}"
        )
        signals.append(("same e-mail address", same_address))
    if contact.phone:
        signals.append(("same phone number", Q(phone=contact.phone)))
    if contact.company_id and contact.first_name and contact.last_name:
        signals.append(
            (
                "same name and company",
                Q(
                    company_id=contact.company_id,
                    first_name__iexact=contact.first_name,
                    last_name__iexact=contact.last_name,
                ),
            )
        )
    found: dict[int, tuple[Contact, list[str]]] = {}
    for reason, condition in signals:
        for other in live_contacts().filter(condition).exclude(pk=contact.pk)[:limit]:
            found.setdefault(other.pk, (other, []))[1].append(reason)
    return [Candidate(contact=c, reasons=tuple(r)) for c, r in found.values()][:limit]


def with_possible_duplicates(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """Narrow a contact list to those with another live record of the same phone or name+company."""
    others = live_contacts().exclude(pk=OuterRef("pk"))
    same_phone = others.filter(phone=OuterRef("phone")).exclude(phone="")
    same_name = (
        others.filter(company_id=OuterRef("company_id"))
        .annotate(first=Lower("first_name"), last=Lower("last_name"))
        .filter(first=Lower(OuterRef("first_name")), last=Lower(OuterRef("last_name")))
        .exclude(last_name="")
    )
    return queryset.filter(Exists(same_phone) | Exists(same_name))
