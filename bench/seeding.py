"""Seed the bench database: N contacts with companies, sources, provenance and interactions.

The rows are made up and the same on every run (a fixed random seed): names from short lists,
e-mail addresses like `anna.jansen42@example.org` at reserved domains (and their keyed hashes),
countries spread over ten EU member states. PostgreSQL receives them by COPY, with the secondary
indexes and foreign keys re-created after the load, and is then vacuumed and analysed, so that the
planner's statistics and the visibility map look like those of a table autovacuum has seen; other
databases receive them by bulk_create in batches.
"""

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, islice
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Model

from core.hashing import stored_email_hash
from core.orphans import unconstrained_links
from crm.models import Client, Company, Contact, ContactSource, Interaction, Source

SEED = 20261122
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
BATCH_SIZE = 5_000
CONTACTS_PER_COMPANY = 20

# Weighted towards the Netherlands, where the CRM's users sell most.
COUNTRY_WEIGHTS = {
    "NL": 22,
    "DE": 16,
    "BE": 12,
    "FR": 12,
    "ES": 8,
    "IT": 8,
    "PL": 6,
    "RO": 6,
    "IE": 5,
    "PT": 5,
}
COUNTRIES = list(COUNTRY_WEIGHTS)
CUMULATIVE_COUNTRY_WEIGHTS = list(accumulate(COUNTRY_WEIGHTS.values()))
LANGUAGES = {"NL": "nl", "BE": "nl", "RO": "ro"}
FIRST_NAMES = [
    *("Anna", "Daan", "Sanne", "Joris", "Femke", "Bram", "Lotte", "Wout", "Elise", "Arne"),
    *("Lena", "Jonas", "Mia", "Felix", "Camille", "Hugo", "Chloe", "Louis", "Ioana", "Andrei"),
    *("Elena", "Mihai", "Aoife", "Cian", "Niamh", "Lucia", "Pablo", "Marta", "Diego", "Ines"),
    *("Tiago", "Beatriz", "Rui", "Giulia", "Marco", "Sofia", "Luca", "Zofia", "Jakub", "Maja"),
]
LAST_NAMES = [
    *("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Mulder", "Janssens", "Peeters"),
    *("Maes", "Claes", "Wouters", "Schneider", "Fischer", "Weber", "Becker", "Martin"),
    *("Bernard", "Dubois", "Moreau", "Popescu", "Ionescu", "Dumitru", "Stan", "Murphy"),
    *("Kelly", "Byrne", "Walsh", "Garcia", "Lopez", "Sanchez", "Silva", "Santos"),
    *("Ferreira", "Costa", "Rossi", "Russo", "Ferrari", "Nowak", "Kowalski", "Wisniewski"),
]
EMAIL_DOMAINS = ("example.org", "example.net")
JOB_TITLES = ("Marketing manager", "Head of sales", "Office manager", "CEO", "Buyer", "")
COMPANY_WORDS = (
    ("Brightlane", "Tulip", "Maas", "Rhein", "Spree", "Loire", "Carpathia", "Liffey", "Arno"),
    ("Logistics", "Data Works", "Advisory", "Systems", "Health", "Retail", "Soft", "Foods"),
)
INDUSTRIES = ("Logistics", "Software", "Financial services", "Retail", "Healthcare", "Energy")
INTERACTION_SUBJECTS = {
    Interaction.Kind.NOTE: "Note after the webinar",
    Interaction.Kind.CALL: "Call about the renewal",
    Interaction.Kind.MEETING: "Meeting at the trade fair",
    Interaction.Kind.EMAIL: "Reply to the brochure",
    Interaction.Kind.CONTACT_FORM: "Question sent through the contact form",
}

COMPANY_COLUMNS = (
    "id",
    "name",
    "website",
    "domain",
    "industry",
    "phone",
    "address",
    "country",
    "registration_number",
    "vat_number",
    "created_at",
    "updated_at",
)
CONTACT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "company_id",
    "country",
    "language",
    "birth_date",
    "relationship",
    "last_activity_at",
    "is_restricted",
    "email_status",
    "created_at",
    "updated_at",
)
# The shared seed also gives each contact its address's keyed hash (Contact.save keeps it; COPY
# bypasses save), so that audiences can match suppressions.
SEEDED_CONTACT_COLUMNS = (*CONTACT_COLUMNS, "email_hash")
PROVENANCE_COLUMNS = (
    "id",
    "contact_id",
    "source_id",
    "collected_at",
    "reference",
    "collected_by_id",
    "informed_at",
    "created_at",
)
INTERACTION_COLUMNS = (
    "id",
    "contact_id",
    "kind",
    "occurred_at",
    "subject",
    "body",
    "staff_id",
    "created_at",
)

Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableRows:
    """The rows to load into one model's table, in the order of `columns`."""

    model: type[Model]
    columns: tuple[str, ...]
    rows: Iterable[Row]


def seed(*, scale: int) -> None:
    """Fill the empty bench database with `scale` contacts and their rows, in one transaction."""
    rng = random.Random(SEED)
    companies = max(1, scale // CONTACTS_PER_COMPANY)
    with transaction.atomic():
        sources = create_sources()
        tables = (
            TableRows(Company, COMPANY_COLUMNS, company_rows(rng, companies)),
            TableRows(Contact, SEEDED_CONTACT_COLUMNS, _contacts(rng, scale, companies)),
            TableRows(ContactSource, PROVENANCE_COLUMNS, _provenance(rng, scale, sources)),
            TableRows(Interaction, INTERACTION_COLUMNS, _interactions(rng, scale)),
        )
        bulk_load(tables)
    vacuum_analyze(tables)


def bulk_load(tables: Sequence[TableRows]) -> None:
    """Load the tables, in the caller's transaction, and reset their id sequences.

    PostgreSQL receives the rows by COPY with the tables' secondary indexes and foreign keys
    dropped and re-created after the load; other databases by bulk_create in batches.
    """
    if connection.vendor == "postgresql":
        names = [table.model._meta.db_table for table in tables]
        with connection.cursor() as cursor:
            # Check the deferred foreign keys of rows created before now: PostgreSQL alters no
            # table that still has checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with _without_indexes_and_foreign_keys(names):
            _load(tables, _copy)
    else:
        _load(tables, _bulk_create)
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [table.model for table in tables]
        ):
            cursor.execute(statement)


def vacuum_analyze(tables: Iterable[TableRows]) -> None:
    """On PostgreSQL, vacuum and analyse the loaded tables, then analyse the whole database."""
    if connection.vendor != "postgresql":
        return
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE "{table.model._meta.db_table}"')
        cursor.execute("ANALYZE")
    print(f"  VACUUM ANALYZE in {time.perf_counter() - start:.1f} s", flush=True)


def _load(tables: Iterable[TableRows], load: Callable[[TableRows], int]) -> None:
    """Load each table with the given loader, printing how long it took."""
    for table in tables:
        start = time.perf_counter()
        rows = load(table)
        name = table.model._meta.db_table
        print(f"  {name}: {rows:,} rows in {time.perf_counter() - start:.1f} s", flush=True)


@contextmanager
def _without_indexes_and_foreign_keys(tables: list[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes and foreign keys, and re-create them after the load.

    PostgreSQL's advice for bulk loads: one index build is faster than updating every index row by
    row, and one foreign-key validation faster than a deferred trigger per row; the orphan
    triggers are likewise off during the load and their check made once after it. Primary keys
    and unique constraints stay. The DDL runs in the caller's transaction, so a failure restores
    all.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        # The orphan triggers standing in for foreign keys (core/orphans.py) are checked once
        # after the load instead, as the foreign keys are.
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    yield
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        _check_links(cursor, tables)
    elapsed = time.perf_counter() - start
    print(f"  {len(indexes)} indexes and {len(foreign_keys)} foreign keys in {elapsed:.1f} s")


def _check_links(cursor, tables: list[str]) -> None:
    """Fail unless every loaded row's unconstrained links name rows that exist."""
    for table, column, target in unconstrained_links():
        if table not in tables:
            continue
        # Names from the models, no outside input.
        orphan = f'"{target}".id = "{table}"."{column}"'
        cursor.execute(
            f'SELECT 1 FROM "{table}" WHERE "{column}" IS NOT NULL AND NOT EXISTS '  # noqa: S608
            f'(SELECT 1 FROM "{target}" WHERE {orphan}) LIMIT 1'
        )
        if cursor.fetchone():
            raise RuntimeError(f"Seeded {table}.{column} names a {target} row that is not there.")


def load_rows(table: TableRows) -> int:
    """Load one table's rows, by COPY on PostgreSQL, else by bulk_create; return how many."""
    return _copy(table) if connection.vendor == "postgresql" else _bulk_create(table)


def _copy(table: TableRows) -> int:
    """Load the rows with COPY, psycopg 3 adapting each value; return how many there were."""
    columns = ", ".join(f'"{column}"' for column in table.columns)
    statement = f'COPY "{table.model._meta.db_table}" ({columns}) FROM STDIN'
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in table.rows:
            copy.write_row(row)
            count += 1
    return count


def _bulk_create(table: TableRows) -> int:
    """Load the rows with bulk_create, a batch at a time; return how many there were."""
    rows = iter(table.rows)
    count = 0
    while batch := list(islice(rows, BATCH_SIZE)):
        objects = [table.model(**dict(zip(table.columns, row, strict=True))) for row in batch]
        table.model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        count += len(objects)
    return count


def create_sources() -> list[Source]:
    """Create a handful of sources of several kinds, two of them lists supplied by clients."""
    north = Client.objects.create(name="Bench client North")
    south = Client.objects.create(name="Bench client South")
    kinds = Source.Kind
    specs = [
        (kinds.WEB_FORM, "Newsletter form", "", None),
        (kinds.BUSINESS_DIRECTORY, "Kompass NL", "https://directory.example.org/", None),
        (kinds.PUBLIC_WEBSITE, "Company websites", "", None),
        (kinds.CLIENT_LIST, "Customer list 2026", "", north),
        (kinds.CLIENT_LIST, "Event visitors", "", south),
        (kinds.EVENT, "Trade fair Utrecht", "", None),
        (kinds.STAFF_ENTRY, "Entered by staff", "", None),
    ]
    return [
        Source.objects.create(kind=kind, name=name, url=url, client=client)
        for kind, name, url, client in specs
    ]


def _country(rng: random.Random) -> str:
    return rng.choices(COUNTRIES, cum_weights=CUMULATIVE_COUNTRY_WEIGHTS)[0]


def _ago(rng: random.Random, days: int) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(days * 86_400))


def company_rows(rng: random.Random, count: int) -> Iterator[Row]:
    """Yield `count` made-up companies, ids from 1."""
    first_words, second_words = COMPANY_WORDS
    for pk in range(1, count + 1):
        created = _ago(rng, 1_500)
        name = f"{rng.choice(first_words)} {rng.choice(second_words)} {pk}"
        domain = f"company{pk}.example.org"
        yield (
            pk,
            name,
            f"https://{domain}/",
            domain,
            rng.choice(INDUSTRIES),
            "",
            "",
            _country(rng),
            "",
            "",
            created,
            created,
        )


def _contacts(rng: random.Random, count: int, companies: int) -> Iterator[Row]:
    relationships = Contact.Relationship.values
    for pk in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last.replace(' ', '')}{pk}".lower()
        email = f"{local}@{EMAIL_DOMAINS[pk % 2]}"
        country = _country(rng)
        created = _ago(rng, 1_500)
        active = _ago(rng, 1_000) if rng.random() < 0.7 else None
        yield (
            pk,
            first,
            last,
            email,
            # The UK's range reserved for drama: never a real number.
            f"+44207946{pk % 10_000:04d}" if rng.random() < 0.3 else "",
            rng.choice(JOB_TITLES),
            rng.randint(1, companies) if rng.random() < 0.9 else None,
            country,
            LANGUAGES.get(country, "en"),
            date(1960, 1, 1) + timedelta(days=rng.randrange(15_000)) if pk % 10 == 0 else None,
            rng.choice(relationships),
            active,
            pk % 500 == 0,
            Contact.EmailStatus.BOUNCED.value if pk % 50 == 0 else Contact.EmailStatus.VALID.value,
            created,
            created,
            stored_email_hash(email),
        )


def _provenance(rng: random.Random, count: int, sources: list[Source]) -> Iterator[Row]:
    for pk in range(1, count + 1):
        source = rng.choice(sources)
        collected = _ago(rng, 1_500)
        informed = (collected + timedelta(days=rng.randint(1, 25))).date()
        yield (
            pk,
            pk,
            source.pk,
            collected,
            f"bench/{source.pk}/{pk // 1_000}",
            None,
            informed if source.is_indirect else None,
            collected,
        )


def _interactions(rng: random.Random, count: int) -> Iterator[Row]:
    kinds = list(INTERACTION_SUBJECTS)
    for pk in range(1, count + 1):
        kind = rng.choice(kinds)
        occurred = _ago(rng, 1_000)
        subject = INTERACTION_SUBJECTS[kind]
        yield (pk, pk, kind.value, occurred, subject, "Made-up note.", None, occurred)
