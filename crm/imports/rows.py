"""One row of a list made ready for the staging table: normalised, or refused with a reason.

Each row is normalised by the same functions every other entry point uses (core.normalisation,
crm.contacts.refuse_children) and its address hashed with the suppression key. A refused row
keeps its cells for the rejected rows' report, except a child's, of which nothing is kept. So does
a row whose address may repeat an earlier one, which the merge may refuse as a duplicate: a table
of bits, one per slot of the address's hash, remembers the addresses seen (a few rows share a slot
and keep their cells needlessly; none is ever missed), in a size that does not grow with the file.
The other rows carry none: each becomes a contact, or is refused as opted out, which keeps none.
The table is kept by one process, in row order (`keep_repeated_cells`); the rest of a chunk's
normalising (`normalise_chunk`) may run in any process, given the countries of the companies the
chunk names, which `company_countries_of` looks up in the database beforehand. The common row
takes short cuts that give the same values: its cells picked at once, company websites read
once each, the lengths checked in one pass.

Every value is checked here against the column it goes to, so the database never refuses a row
(which would fail the whole merge) and SQLite, which does not enforce lengths, keeps what
PostgreSQL would: a value too long for its column refuses the row with that reason, never cut
short in silence. Names, job titles and company names are single lines: a line break in the cell
becomes a space, other control characters go. A local phone number is read in the row's country,
else in the country of the existing company the row names, else in the client's.
"""

import json
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from operator import itemgetter, le

from django.conf import settings
from django.core.exceptions import ValidationError

from core.hashing import stored_email_hasher
from core.normalisation import normalise_country, normalise_domain, normalise_email, normalise_phone
from crm.contacts import refuse_children
from crm.imports.mapping import FIELDS
from crm.models import Company, Contact, ImportRejection

Reason = ImportRejection.Reason

COUNTRY_MEMO_SIZE = 10_000
# Company websites looked up once each: a list names a few companies many times.
DOMAIN_MEMO_SIZE = 65_536
# Companies looked up at once for their country (well under SQLite's limit of parameters).
COMPANY_LOOKUP_SIZE = 5_000
# What the single-line fields are called in a refusal's message, with their column's length.
LINE_FIELDS = {
    "first_name": "first name",
    "last_name": "last name",
    "job_title": "job title",
    "company_name": "company name",
}
DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")
# Slots of the table of addresses seen: 2**26 bits (8 MiB); at a million addresses about 1.5 % of
# the new rows share a slot with an earlier one and keep their cells for nothing.
SEEN_SLOT_BITS = 26
# What a staged row that will never be reported carries instead of its cells.
NO_CELLS = ""

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
REASON, EMAIL_HASH, CELLS = (
    STAGE_COLUMNS.index(name) for name in ("reason", "email_hash", "cells")
)


class RowPlan:
    """How one file's columns become contact fields: normalise a row for the staging table."""

    def __init__(self, mapping: dict[str, int], *, client_country: str = "") -> None:
        self.columns = [mapping.get(field) for field in FIELDS]
        # A row as wide as the mapping reads its cells at once, an unmapped field the "" after them.
        self.width = max((index + 1 for index in self.columns if index is not None), default=0)
        self.pick = itemgetter(*(-1 if index is None else index for index in self.columns))
        self.hash = stored_email_hasher()
        self.languages = {code for code, _ in settings.LANGUAGES}
        self.client_country = client_country
        # A list spells its countries a few ways: look each spelling up once.
        self.countries: dict[str, str | ValidationError] = {}
        # The country of each existing company this chunk names, by domain and by name.
        self.company_countries: dict[tuple[str, str], str] = {}
        opts = Contact._meta
        self.lengths = {
            name: opts.get_field(name).max_length
            for name in ("first_name", "last_name", "job_title")
        }
        self.lengths["company_name"] = Company._meta.get_field("name").max_length
        self.limits = [self.lengths[name] for name in LINE_FIELDS]
        self.domain_length = Company._meta.get_field("domain").max_length
        self.domains: dict[str, str] = {}
        self.seen = bytearray(1 << (SEEN_SLOT_BITS - 3))

    def remember(self, email_hashes: Iterable[str]) -> None:
        """Mark addresses as seen by their hashes: the valid rows staged by an earlier run."""
        for email_hash in email_hashes:
            self._seen_before(email_hash)

    def _seen_before(self, email_hash: str) -> bool:
        """Say whether the hash's slot was marked by an earlier row, and mark it."""
        slot = int(email_hash[:8], 16) & ((1 << SEEN_SLOT_BITS) - 1)
        byte, bit = slot >> 3, 1 << (slot & 7)
        seen = self.seen[byte] & bit
        self.seen[byte] |= bit
        return bool(seen)

    def stage_chunk(self, rows: list[tuple[int, list[str]]]) -> list[tuple]:
        """Return the staging rows of a chunk, looking up the countries of the companies named."""
        staged = self.normalise_chunk(rows, self.company_countries_of(rows))
        return self.keep_repeated_cells(staged, rows)

    def normalise_chunk(
        self, rows: list[tuple[int, list[str]]], company_countries: dict[tuple[str, str], str]
    ) -> list[tuple]:
        """Return a chunk's staging rows but the repeated addresses' cells; any process can.

        `company_countries` is what `company_countries_of` found for the chunk; the valid rows
        carry no cells until `keep_repeated_cells` gives them theirs.
        """
        self.company_countries = company_countries
        return [self.stage(number, cells) for number, cells in rows]

    def keep_repeated_cells(
        self, staged: list[tuple], rows: list[tuple[int, list[str]]]
    ) -> list[tuple]:
        """Give the valid rows whose address may repeat an earlier one their cells, for the report.

        The table of addresses seen is this process's: call it on every chunk, in row order.
        """
        kept = []
        for row, (_, cells) in zip(staged, rows, strict=True):
            if not row[REASON] and self._seen_before(row[EMAIL_HASH]):
                row = (*row[:CELLS], json.dumps(cells, ensure_ascii=False))
            kept.append(row)
        return kept

    def company_countries_of(self, rows: list[tuple[int, list[str]]]) -> dict[tuple[str, str], str]:
        """Return the countries of the existing companies the rows name, as the merge matches them.

        Only rows with a number to read and no country of their own look theirs up.
        """
        column = dict(zip(FIELDS, self.columns, strict=True))
        if column["company"] is None and column["company_domain"] is None:
            return {}
        domains, names = set(), set()
        for _, cells in rows:
            if not _cell(cells, column["phone"]) or _cell(cells, column["country"]):
                continue  # no number to read, or the row's own country reads it
            domain = self.domain(_cell(cells, column["company_domain"]))
            if domain:
                domains.add(domain)
            elif name := _single_line(_cell(cells, column["company"])):
                names.add(name)
        found: dict[tuple[str, str], str] = {}
        for key, values in (("domain", sorted(domains)), ("name", sorted(names))):
            for start in range(0, len(values), COMPANY_LOOKUP_SIZE):
                companies = (
                    Company.objects.filter(
                        **{f"{key}__in": values[start : start + COMPANY_LOOKUP_SIZE]}
                    )
                    .order_by("-id")
                    .values_list(key, "country")
                )
                # The lowest id last: the merge attaches a row to the first company matched.
                found.update(((key, value), country) for value, country in companies)
        return found

    def stage(self, number: int, cells: list[str]) -> tuple:
        """Return the staging row: normalised fields, and a reason if the row is refused.

        A valid row's cells are left to `keep_repeated_cells`.
        """
        width = len(cells)
        if width >= self.width:
            values = map(str.strip, self.pick([*cells, ""]))
        else:
            values = (
                cells[index].strip() if index is not None and index < width else ""
                for index in self.columns
            )
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
        ) = values
        reason, message = "", ""
        email = email_hash = ""
        birth_date = None
        country = phone = ""
        first_name, last_name = _single_line(first_name), _single_line(last_name)
        job_title, company = _single_line(job_title), _single_line(company)
        domain = self.domain(company_domain)
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
                phone = self.phone(raw_phone, country, domain, company)
            self.check_lengths(first_name, last_name, job_title, company)
        except _Refused as refused:
            reason, message = refused.reason, refused.message
        if reason == Reason.UNDER_16:
            # We keep nothing about a child, not even in the report.
            return (number, "", "", "", "", "", "", "", "", None, "", "", reason, message, "[]")
        language = language.lower()[:2]
        if reason:
            # Values that did not pass their checks go no further than the report's cells.
            first_name, last_name, job_title, company = (
                value[: self.lengths[name]]
                for name, value in zip(
                    LINE_FIELDS, (first_name, last_name, job_title, company), strict=True
                )
            )
        return (
            number,
            email,
            email_hash,
            first_name,
            last_name,
            phone,
            job_title,
            country,
            language if language in self.languages else "",
            birth_date,
            company,
            domain,
            reason,
            message[:300],
            json.dumps(cells, ensure_ascii=False) if reason else NO_CELLS,
        )

    def domain(self, raw: str) -> str:
        """Return the company's domain, or "" (matched by name then) for a bad or too long one."""
        if not raw:
            return ""
        found = self.domains.get(raw)
        if found is None:
            found = self._read_domain(raw)
            if len(self.domains) < DOMAIN_MEMO_SIZE:
                self.domains[raw] = found
        return found

    def _read_domain(self, raw: str) -> str:
        try:
            domain = normalise_domain(raw)
        except ValidationError:
            return ""
        return domain if len(domain) <= self.domain_length else ""

    def phone(self, raw: str, country: str, domain: str, company: str) -> str:
        """Return the number in E.164, read in the row's, its company's or the client's country."""
        company_country = self.company_countries.get(
            ("domain", domain) if domain else ("name", company), ""
        )
        region = country or company_country or self.client_country
        try:
            return normalise_phone(raw, region=region)
        except ValidationError as exc:
            code = Reason.AMBIGUOUS_PHONE if exc.code == "ambiguous" else Reason.INVALID_PHONE
            raise _Refused(code, exc.messages[0]) from exc

    def check_lengths(self, *values: str) -> None:
        """Refuse the row if a single-line value is longer than its column."""
        if all(map(le, map(len, values), self.limits)):
            return
        for (name, label), value in zip(LINE_FIELDS.items(), values, strict=True):
            limit = self.lengths[name]
            if len(value) > limit:
                raise _Refused(
                    Reason.TOO_LONG,
                    f"The {label} is {len(value)} characters long; at most {limit} fit.",
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


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _single_line(value: str) -> str:
    """Return the text on one line: line breaks become spaces, other control characters go."""
    if value.isprintable():
        return value
    kept = (" " if char in "\n\r\t" else char for char in value)
    text = "".join(char for char in kept if unicodedata.category(char) != "Cc")
    return " ".join(text.split())


class _Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason, self.message = reason, message
