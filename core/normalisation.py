"""Normalise e-mail addresses, phone numbers and countries: the one place every entry point uses.

Admin forms, the API, imports and public forms all call these, so that one person is one row: the
e-mail is unique only after it is normalised, phones are stored in E.164, countries as ISO 3166-1
alpha-2 codes.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import idna
import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django_countries import countries


def normalise_email(raw: str) -> str:
    """Return the address trimmed, lower-cased, its domain in IDNA form; refuse invalid ones."""
    value = (raw or "").strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError("Enter a valid e-mail address, like name@example.org.", "invalid")
    try:
        ascii_domain = _ascii_domain(domain)
    except idna.IDNAError as exc:
        raise ValidationError(
            "The domain of this e-mail address is not a valid domain name.", "invalid"
        ) from exc
    address = f"{local}@{ascii_domain}"
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError(
            "Enter a valid e-mail address, like name@example.org.", "invalid"
        ) from exc
    return address


# Imports normalise a million addresses over a few thousand domains: encode each domain once.
@lru_cache(maxsize=65536)
def _ascii_domain(domain: str) -> str:
    """Return the domain in IDNA (ASCII) form; raise idna.IDNAError for an invalid one."""
    return idna.encode(domain, uts46=True).decode("ascii")


def normalise_phone(raw: str, *, region: str) -> str:
    """Return the number in E.164 (+31201234567), reading local numbers in `region`."""
    value = (raw or "").strip()
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "Enter a valid phone number, with its country prefix (like +31 20 123 4567).",
            "invalid",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "This phone number does not exist in its country's numbering plan.", "invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_country(raw: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a code (NL, NLD, 528) or an English name."""
    value = (raw or "").strip()
    if not value:
        return ""
    code = countries.alpha2(value) or countries.by_name(value)
    if not code:
        raise ValidationError(
            "Unknown country: use an ISO 3166 code such as NL or an English name.", "invalid"
        )
    return code


def normalise_domain(raw: str) -> str:
    """Return a bare, lower-case IDNA domain from a domain or a website address."""
    value = (raw or "").strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.split("/", 1)[0].removeprefix("www.")
    if not value:
        return ""
    try:
        return _ascii_domain(value)
    except idna.IDNAError as exc:
        raise ValidationError("Enter a valid domain name, like example.org.", "invalid") from exc


def phone_region(obj: object) -> str:
    """Return the region to read local phone numbers in: the record's country, else the default."""
    return str(getattr(obj, "country", "") or "") or settings.DEFAULT_PHONE_REGION


def normalise_fields(obj: object, steps: list[tuple[str, Callable[[Any], Any]]]) -> None:
    """Normalise the named attributes in order, in place; raise every field's error at once."""
    errors: dict[str, list[ValidationError]] = {}
    for name, normalise in steps:
        try:
            setattr(obj, name, normalise(getattr(obj, name)))
        except ValidationError as exc:
            errors[name] = exc.error_list
    if errors:
        raise ValidationError(errors)
