"""One row of a list made ready for the staging table: normalised, or refused with a reason.

Each row is normalised by the same functions every other entry point uses (core.normalisation,
crm.contacts.refuse_children) and its address hashed with the suppression key. A refused row
keeps its cells for the rejected rows' report, except a child's, of which nothing is kept.
"""

import json
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError

from core.hashing import stored_email_hasher
from core.normalisation import normalise_country, normalise_domain, normalise_email, normalise_phone
from crm.contacts import refuse_children
from crm.imports.mapping import FIELDS
from crm.models import Contact, ImportRejection

Reason = ImportRejection.Reason

COUNTRY_MEMO_SIZE = 10_000
DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")

# The columns of a staged row, in the order RowPlan.stage returns them.
STAGE_COLUMNS = (
    "row_number",
    "email",
    "email_hash",
    "first_name",
    "last_name",
    "phone",
    "job_title",
    "country",
    "language",
    "birth_date",
    "company_name",
    "company_domain",
    "reason",
    "message",
    "cells",
)


class RowPlan:
    """How one file's columns become contact fields: normalise a row for the staging table."""

    def __init__(self, mapping: dict[str, int]) -> None:
        self.columns = [mapping.get(field) for field in FIELDS]
        self.hash = stored_email_hasher()
        self.languages = {code for code, _ in settings.LANGUAGES}
        self.default_region = settings.DEFAULT_PHONE_REGION
        # A list spells its countries a few ways: look each spelling up once.
        self.countries: dict[str, str | ValidationError] = {}
        opts = Contact._meta
        self.lengths = {
            name: opts.get_field(name).max_length
            for name in ("first_name", "last_name", "job_title")
        }

    def stage(self, number: int, cells: list[str]) -> tuple:
        """Return the staging row: normalised fields, and a reason if the row is refused."""
        width = len(cells)
        (
            raw_email,
            first_name,
            last_name,
            raw_phone,
            job_title,
            company,
            company_domain,
            raw_country,
            language,
            raw_birth_date,
        ) = (
            cells[index].strip() if index is not None and index < width else ""
            for index in self.columns
        )
        reason, message = "", ""
        email = email_hash = ""
        birth_date = None
        country = phone = ""
        try:
            if not raw_email:
                raise _Refused(Reason.MISSING_FIELD, "The e-mail address is empty.")
            try:
                email = normalise_email(raw_email)
            except ValidationError as exc:
                raise _Refused(Reason.INVALID_EMAIL, exc.messages[0]) from exc
            # Hashed before the other checks: erasure finds a row refused for them by this hash.
            email_hash = self.hash(email)
            birth_date = self.birth_date(raw_birth_date)
            country = self.country(raw_country)
            if raw_phone:
                try:
                    phone = normalise_phone(raw_phone, region=country or self.default_region)
                except ValidationError as exc:
                    raise _Refused(Reason.INVALID_PHONE, exc.messages[0]) from exc
        except _Refused as refused:
            reason, message = refused.reason, refused.message
        if reason == Reason.UNDER_16:
            # We keep nothing about a child, not even in the report.
            return (number, "", "", "", "", "", "", "", "", None, "", "", reason, message, "[]")
        try:
            domain = normalise_domain(company_domain) if company_domain else ""
        except ValidationError:
            domain = ""  # a company is then matched by its name
        language = language.lower()[:2]
        return (
            number,
            email,
            email_hash,
            first_name[: self.lengths["first_name"]],
            last_name[: self.lengths["last_name"]],
            phone,
            job_title[: self.lengths["job_title"]],
            country,
            language if language in self.languages else "",
            birth_date,
            company[:200],
            domain[:253],
            reason,
            message[:300],
            json.dumps(cells, ensure_ascii=False),
        )

    def country(self, raw: str) -> str:
        """Return the country code for a code or name; refuse an unknown one."""
        found = self.countries.get(raw)
        if found is None:
            try:
                found = normalise_country(raw)
            except ValidationError as exc:
                found = exc
            if len(self.countries) < COUNTRY_MEMO_SIZE:
                self.countries[raw] = found
        if isinstance(found, ValidationError):
            raise _Refused(Reason.INVALID_COUNTRY, found.messages[0])
        return found

    @staticmethod
    def birth_date(raw: str) -> date | None:
        """Return the birth date (ISO or day-month-year); refuse an invalid one or a child's."""
        if not raw:
            return None
        parsed = None
        try:
            parsed = date.fromisoformat(raw[:10])
        except ValueError:
            for pattern in DATE_FORMATS:
                try:
                    parsed = datetime.strptime(raw, pattern).date()
                    break
                except ValueError:
                    continue
        if parsed is None:
            raise _Refused(Reason.INVALID_DATE, "Enter a valid date, like 1980-05-17.")
        try:
            return refuse_children(parsed)
        except ValidationError as exc:
            code = Reason.UNDER_16 if exc.code == "child" else Reason.INVALID_DATE
            raise _Refused(code, exc.messages[0]) from exc


class _Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason, self.message = reason, message
