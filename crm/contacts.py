"""Create and change contacts: normalise, refuse duplicates, save and audit in one transaction.

The admin, the API and the public forms write contacts through these functions, so a contact is
never saved un-normalised, twice under two spellings of one address, or without its audit row. List
imports write theirs in set-based SQL (crm.imports.merge) from rows normalised by the same
functions of core.normalisation.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from core.actors import Actor
from core.audit import record_audit
from core.events import EventKind, emit_event
from core.models import AuditEvent
from core.normalisation import (
    normalise_country,
    normalise_email,
    normalise_fields,
    normalise_phone,
    phone_region,
)
from crm.models import Contact
from crm.suppression import may_contact

CONTACT_FIELDS = frozenset(
    f.name for f in Contact._meta.concrete_fields if f.editable and not f.primary_key
)


class DuplicateContactError(ValidationError):
    """The e-mail address, once normalised, already belongs to another contact."""

    def __init__(self, existing: Contact) -> None:
        self.existing = existing
        message = f"A contact with this e-mail address already exists: contact #{existing.pk}."
        super().__init__({"email": [ValidationError(message, code="duplicate")]})


def find_duplicate(*, email: str | None, exclude_pk: int | None = None) -> Contact | None:
    """Return the other contact that already has this normalised e-mail address, if any."""
    if not email:
        return None
    return Contact.objects.filter(email=email).exclude(pk=exclude_pk).first()


def normalise_contact(contact: Contact) -> None:
    """Normalise e-mail, phone, country and birth date in place; raise every field error at once.

    A phone number without its country prefix is read in the contact's country, else the
    company's; with neither, core.normalisation refuses one that several countries could claim.

    A birth date that makes the person younger than 16 today is refused: we keep no data about
    children (art. 8 sets 16 as the age of consent to online services).
    """
    normalise_fields(
        contact,
        [
            ("country", lambda value: normalise_country(str(value or ""))),
            ("email", lambda value: normalise_email(value) if value else None),
            (
                "phone",
                lambda value: (
                    normalise_phone(value, region=phone_region(contact, _company(contact)))
                    if value
                    else value
                ),
            ),
            ("birth_date", refuse_children),
        ],
    )


def _company(contact: Contact) -> object:
    """Return the contact's company, whose country reads local phone numbers after the person's."""
    return contact.company if contact.company_id else None


# GDPR art. 8 lets member states set the age of digital consent between 13 and 16; we keep no data
# about anyone under the highest of them, so the rule holds in every member state.
MINIMUM_AGE = 16


def age_on(birth_date: date, day: date) -> int:
    """Return the age in whole years on `day` of a person born on `birth_date`."""
    # Born on 29 February: a year older on 1 March in a common year, not on 28 February.
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def refuse_children(value: date | str | None) -> date | None:
    """Return the birth date as a date; refuse one in the future or under MINIMUM_AGE today."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:  # well formed but not a day of the calendar, like 2001-02-30
            parsed = None
        if parsed is None:
            raise ValidationError("Enter a valid date, like 1980-05-17.", code="invalid")
        value = parsed
    today = timezone.localdate()
    if value > today:
        raise ValidationError("A birth date cannot be in the future.", code="future")
    age = age_on(value, today)
    if age < MINIMUM_AGE:
        raise ValidationError(
            f"We do not keep data about children under {MINIMUM_AGE}; "
            f"this birth date makes the person {age}.",
            code="child",
        )
    return value


def create_contact(
    *, actor: Actor, channel: str, allow_suppressed: bool = False, **values: Any
) -> Contact:
    """Create a contact from field values; raise ValidationError with field errors if invalid.

    A globally suppressed address is refused unless `allow_suppressed`: only the person's own
    actions (a double opt-in, a message they send us) may bring it back.
    """
    _check_field_names(values)
    return save_contact(
        contact=Contact(**values),
        actor=actor,
        channel=channel,
        changed_fields=values,
        allow_suppressed=allow_suppressed,
    )


def update_contact(*, contact: Contact, actor: Actor, channel: str, **changes: Any) -> Contact:
    """Apply changes to a contact; raise ValidationError and leave the row untouched if invalid."""
    _check_field_names(changes)
    for name, value in changes.items():
        setattr(contact, name, value)
    return save_contact(contact=contact, actor=actor, channel=channel, changed_fields=changes)


def save_contact(
    *,
    contact: Contact,
    actor: Actor,
    channel: str,
    changed_fields: Iterable[str],
    allow_suppressed: bool = False,
) -> Contact:
    """Normalise, check for a duplicate or an opted-out address, save and audit, atomically."""
    changed_fields = list(changed_fields)
    if contact.anonymised_at is not None:
        raise ValidationError(
            "This person was erased; the anonymised row stays only for invoices under their legal "
            "hold and cannot be edited.",
            code="erased",
        )
    action = AuditEvent.Action.CHANGED if contact.pk else AuditEvent.Action.CREATED
    normalise_contact(contact)
    duplicate = find_duplicate(email=contact.email, exclude_pk=contact.pk)
    if duplicate is not None:
        raise DuplicateContactError(duplicate)
    new_address = contact.email and (contact.pk is None or "email" in changed_fields)
    if new_address and not allow_suppressed:
        check_not_suppressed(contact.email)
    try:
        with transaction.atomic():
            contact.save()
            record_audit(
                actor=actor, action=action, obj=contact, channel=channel, fields=changed_fields
            )
            created = action == AuditEvent.Action.CREATED
            emit_event(
                EventKind.CONTACT_CREATED if created else EventKind.CONTACT_CHANGED,
                contact_id=contact.pk,
                fields=changed_fields,
            )
    except IntegrityError as exc:
        # Another request saved the same address between our check and our insert.
        duplicate = find_duplicate(email=contact.email, exclude_pk=contact.pk)
        if duplicate is None:
            raise
        raise DuplicateContactError(duplicate) from exc
    return contact


def check_not_suppressed(email: str) -> None:
    """Refuse an address that opted out of all contact (DESIGN rule 4)."""
    if not may_contact(email=email):
        raise ValidationError(
            {
                "email": ValidationError(
                    "This address opted out of all contact and cannot be added again. "
                    "The person can subscribe again themselves.",
                    code="suppressed",
                )
            }
        )


def _check_field_names(values: Iterable[str]) -> None:
    unknown = set(values) - CONTACT_FIELDS
    if unknown:
        raise ValueError(f"Unknown contact fields: {sorted(unknown)}")


def record_contact_view(*, contact: Contact, actor: Actor, channel: str) -> None:
    """Log that a staff member opened this person's record (DESIGN rule 7)."""
    record_audit(actor=actor, action=AuditEvent.Action.VIEWED, obj=contact, channel=channel)
