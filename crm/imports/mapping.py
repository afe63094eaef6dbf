"""The column mapping of a list: which column holds which contact field.

A mapping is guessed from the client's last import (by column name), else from common column
names in the languages our clients use; staff or the API can give one, which is checked here.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError

from crm.models import Client, ImportBatch

# The contact fields a column can be mapped to, with their labels in the mapping step.
FIELDS: dict[str, str] = {
    "email": "E-mail",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "job_title": "Job title",
    "company": "Company name",
    "company_domain": "Company website or domain",
    "country": "Country",
    "language": "Language",
    "birth_date": "Birth date",
}
# Column names recognised when guessing a mapping (lower case, without spaces, dots or dashes).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "mail", "emailaddress", "emailadres", "courriel", "adresaemail"),
    "first_name": ("firstname", "givenname", "voornaam", "vorname", "prenom", "prénom", "prenume"),
    "last_name": ("lastname", "surname", "familyname", "achternaam", "nachname", "nom", "nume"),
    "phone": ("phone", "telephone", "telefoon", "telefon", "tel", "mobile", "phonenumber"),
    "job_title": ("jobtitle", "title", "function", "functie", "position", "role"),
    "company": ("company", "companyname", "organisation", "organization", "bedrijf", "firma"),
    "company_domain": ("website", "domain", "companywebsite", "companydomain", "url", "web"),
    "country": ("country", "land", "countrycode", "pays", "tara"),
    "language": ("language", "taal", "sprache", "langue", "limba"),
    "birth_date": ("birthdate", "dateofbirth", "dob", "birthday", "geboortedatum"),
}


def guess_mapping(headers: list[str], *, client: Client | None = None) -> dict[str, int]:
    """Return a mapping for these columns: the client's last one by column name, else by synonym."""
    by_name = {name.strip().lower(): index for index, name in enumerate(headers)}
    remembered = remembered_mapping(client) if client is not None else {}
    mapping = {
        field: by_name[name.lower()]
        for field, name in remembered.items()
        if name.lower() in by_name
    }
    squashed = {re.sub(r"[\s._\-]", "", name.lower()): index for index, name in enumerate(headers)}
    for field, names in SYNONYMS.items():
        if field in mapping:
            continue
        found = next((squashed[name] for name in names if name in squashed), None)
        if found is not None and found not in mapping.values():
            mapping[field] = found
    return mapping


def remembered_mapping(client: Client) -> dict[str, str]:
    """Return the client's last used mapping as field -> column name."""
    last = (
        ImportBatch.objects.filter(client=client)
        .exclude(status=ImportBatch.Status.DRAFT)
        .exclude(mapping={})
        .order_by("-created_at", "-pk")
        .first()
    )
    if last is None:
        return {}
    return {
        field: last.headers[index]
        for field, index in last.mapping.items()
        if isinstance(index, int) and index < len(last.headers)
    }


def clean_mapping(mapping: dict[str, Any], headers: list[str]) -> dict[str, int]:
    """Return the mapping as field -> column number; refuse unknown fields or columns, no e-mail.

    Columns may be given by number (from 0) or by name.
    """
    cleaned: dict[str, int] = {}
    errors = []
    for field, column in mapping.items():
        if column in (None, ""):
            continue
        if field not in FIELDS:
            errors.append(f"{field!r} is not a contact field; use one of {', '.join(FIELDS)}.")
            continue
        if isinstance(column, str) and not column.isdecimal():
            if column not in headers:
                errors.append(f"The file has no column named {column!r}.")
                continue
            column = headers.index(column)
        if isinstance(column, bool) or not isinstance(column, int | str):
            errors.append(f"Give the column of {field!r} as its name or its number.")
            continue
        index = int(column)
        if not 0 <= index < len(headers):
            errors.append(f"The file has no column number {index}.")
            continue
        cleaned[field] = index
    if "email" not in cleaned:
        errors.append("Map one column to E-mail: contacts are matched and deduplicated by it.")
    used = list(cleaned.values())
    if len(used) != len(set(used)):
        errors.append("Map each column to one field only.")
    if errors:
        raise ValidationError({"mapping": errors})
    return cleaned
