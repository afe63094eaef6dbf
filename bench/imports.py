"""A client-supplied list imported end to end, at two sizes, beside the plain-SQL floor.

PostgreSQL only. For each size N (BENCH_SCALE and a fifth of it) the benchmark seeds its own
database `crm_bench_imp_<N>` once: N made-up contacts (with their keyed address hashes), N/20
companies, and the global suppressions of the list's opted-out addresses. It writes a CSV list of
N rows like a client would send: made-up names, 30% with a phone, 70% with a company (most of them
already known by their domain), 3% invalid (address, phone or an under-16 birth date), 5%
repeating an earlier row, 10% already in the database, 2% opted out.

Each measurement runs on `crm_bench_imp_run`, a file copy of the seeded database:

1. The import: in a new process, as a Celery worker would run it, `create_batch` (the file is
   checked, hashed and stored) then `run_batch`; the process reports its wall time, the moment the
   staging ended, and its peak resident memory (VmHWM after resetting it).
2. The floor, on a fresh copy: the file is COPYed into an unindexed table, then one transaction
   merges it in SQL alone (the addresses lower-cased and deduplicated, existing contacts' blank
   fields filled, new contacts inserted, one provenance row each). It does no normalisation, no
   validation and no suppression check, which need the Python functions and the hash key.
3. The minimal-schema floor: the same, on a fresh copy stripped of every index and constraint of
   `crm_contact` and `crm_contactsource` but the primary keys and the unique address, so that the
   cost of the schema itself shows beside the cost of the import's own work.

The copy is dropped at the end; the seeded databases are kept for the next run.
"""

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import connection, transaction

from bench.database import (
    IMPORT_DB_PREFIX,
    copy_database,
    drop_database,
    ensure_database,
    recreate_database,
    using_database,
)
from bench.measuring import Figure, start_peak_measure
from bench.seeding import (
    COMPANY_COLUMNS,
    CONTACTS_PER_COMPANY,
    COUNTRIES,
    CUMULATIVE_COUNTRY_WEIGHTS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    NOW,
    SEED,
    Row,
    TableRows,
    bulk_load,
    company_rows,
    vacuum_analyze,
)
from core.hashing import stored_email_hash
from crm.models import Client, Company, Contact, Suppression

ROOT = Path(__file__).resolve().parent.parent
RUN_DB_NAME = f"{IMPORT_DB_PREFIX}_run"
CLIENT_NAME = "Bench list client"
SMALLER = 5  # the second size is the scale divided by this
CHILD_TIMEOUT_SECONDS = 1800
CHILD_CODE = "import django; django.setup(); from bench.imports import import_in_child; " + (
    "import_in_child()"
)
HEADERS = (
    "E-mail",
    "First name",
    "Last name",
    "Phone",
    "Company",
    "Website",
    "Country",
    "Job",
    "Birth date",
)
MAPPING = {
    "email": 0,
    "first_name": 1,
    "last_name": 2,
    "phone": 3,
    "company": 4,
    "company_domain": 5,
    "country": 6,
    "job_title": 7,
    "birth_date": 8,
}
CONTACT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "email_hash",
    "phone",
    "job_title",
    "company_id",
    "country",
    "language",
    "relationship",
    "is_restricted",
    "email_status",
    "created_at",
    "updated_at",
)
SUPPRESSION_COLUMNS = ("email_hash", "client_id", "reason", "created_at", "lift_reason")


@dataclass(frozen=True)
class Shares:
    """The list's make-up, as fractions of its rows."""

    invalid: float = 0.03
    duplicate: float = 0.05
    existing: float = 0.10
    suppressed: float = 0.02


SHARES = Shares()


def run(*, scale: int) -> list[Figure]:
    """Measure the import and its floor at `scale` and a fifth of it; return the figures."""
    if connection.vendor != "postgresql":
        print("\nimports: PostgreSQL only (it copies template databases); skipped on SQLite.")
        return []
    figures: list[Figure] = []
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as folder:
        for size in sorted({max(1_000, scale // SMALLER), scale}):
            template = f"{IMPORT_DB_PREFIX}_{size}"
            _prepare_seeded_database(template, size)
            path = Path(folder) / f"list-{size}.csv"
            write_list(path, size)
            megabytes = path.stat().st_size / 1_000_000
            print(f"List of {size:,} rows written ({megabytes:.0f} MB).", flush=True)
            copy_database(template, RUN_DB_NAME)
            try:
                report = _import_in_child(path, Path(folder))
                copy_database(template, RUN_DB_NAME)
                with using_database(RUN_DB_NAME):
                    floor = _floor(path)
                copy_database(template, RUN_DB_NAME)
                with using_database(RUN_DB_NAME):
                    _strip_to_minimal_schema()
                    minimal = _floor(path)
            finally:
                drop_database(RUN_DB_NAME)
            results.append((size, report, floor, minimal))
            figures += [
                Figure(f"import_{size}_seconds", report["seconds"], "s", floor=round(floor, 2)),
                Figure(
                    f"import_{size}_seconds_vs_minimal_schema",
                    report["seconds"],
                    "s",
                    floor=round(minimal, 2),
                ),
                Figure(f"import_{size}_rows_per_second", size / report["seconds"], "rows/s"),
                Figure(f"import_{size}_stage_seconds", report["stage_seconds"], "s"),
                Figure(f"import_{size}_peak_rss_mb", report["peak_mb"], "MB"),
                Figure(f"import_{size}_rss_before_mb", report["rss_before_mb"], "MB"),
            ]
    _print_table(results)
    return figures


def _prepare_seeded_database(name: str, size: int) -> None:
    """Create and seed the size's database unless it holds `size` contacts already."""
    with using_database(name):
        created = ensure_database()
        if not created and Contact.objects.count() == size:
            print(f"Reusing {name}: it holds {size:,} contacts.", flush=True)
            return
        print(f"Seeding {name} with {size:,} contacts…", flush=True)
        start = time.perf_counter()
        if not created:
            recreate_database()
        rng = random.Random(SEED)
        companies = max(1, size // CONTACTS_PER_COMPANY)
        with transaction.atomic():
            Client.objects.create(name=CLIENT_NAME)
            tables = (
                TableRows(Company, COMPANY_COLUMNS, company_rows(rng, companies)),
                TableRows(Contact, CONTACT_COLUMNS, _contacts(rng, size, companies)),
                TableRows(Suppression, SUPPRESSION_COLUMNS, _suppressions(size)),
            )
            bulk_load(tables)
        vacuum_analyze(tables)
        print(f"Seeded in {time.perf_counter() - start:.1f} s.", flush=True)


def seeded_name(pk: int) -> tuple[str, str]:
    """Return the first and last name of seeded contact `pk`."""
    return FIRST_NAMES[pk % len(FIRST_NAMES)], LAST_NAMES[(pk * 7) % len(LAST_NAMES)]


def existing_email(pk: int) -> str:
    """Return the address of seeded contact `pk`, as a list spells it (capitals and all)."""
    first, last = seeded_name(pk)
    return f"{first}.{last.replace(' ', '')}{pk}@{EMAIL_DOMAINS[pk % 2]}"


def suppressed_email(number: int) -> str:
    """Return the `number`th opted-out address of the list."""
    return f"opted.out{number}@example.net"


def _contacts(rng: random.Random, count: int, companies: int) -> Iterator[Row]:
    for pk in range(1, count + 1):
        first, last = seeded_name(pk)
        created = NOW - timedelta(days=rng.randrange(1_500))
        normalised = existing_email(pk).lower()
        yield (
            pk,
            first,
            # Half the known people have no last name yet: the import may fill it.
            last if pk % 2 else "",
            normalised,
            stored_email_hash(normalised),
            "",
            rng.choice(JOB_TITLES),
            rng.randint(1, companies) if pk % 3 else None,
            rng.choices(COUNTRIES, cum_weights=CUMULATIVE_COUNTRY_WEIGHTS)[0],
            "",
            Contact.Relationship.PROSPECT.value,
            False,
            Contact.EmailStatus.VALID.value,
            created,
            created,
        )


def _suppressions(size: int) -> Iterator[Row]:
    for number in range(int(size * SHARES.suppressed) + 1):
        yield (stored_email_hash(suppressed_email(number)), None, "unsubscribe", NOW, "")


def write_list(path: Path, size: int, *, seed: int = SEED) -> dict[str, int]:
    """Write a made-up client list of `size` rows to `path`; return how many rows of each kind."""
    rng = random.Random(seed + size)
    companies = max(1, size // CONTACTS_PER_COMPANY)
    made: dict[str, int] = {}
    recent: list[str] = []
    suppressed = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for number in range(size):
            draw = rng.random()
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            phone = f"+31 20 {rng.randrange(1_000_000, 9_999_999)}" if rng.random() < 0.3 else ""
            birth = ""
            company, website = "", ""
            pick = rng.random()
            if pick < 0.6:
                known = rng.randint(1, companies)
                company, website = f"Company {known}", f"https://company{known}.example.org/"
            elif pick < 0.7:
                company = f"Newco {rng.randrange(size // 50 + 1)}"
            shares = SHARES
            if draw < shares.invalid:
                kind = ("invalid_email", "invalid_phone", "under_16")[number % 3]
                email = f"{first}.{last}.{number}@example.org".replace(" ", "")
                if kind == "invalid_email":
                    email = email.replace("@", " at ")
                elif kind == "invalid_phone":
                    phone = "12"
                else:
                    birth = (date(2026, 1, 1) - timedelta(days=rng.randrange(3_000))).isoformat()
            elif draw < shares.invalid + shares.duplicate and recent:
                kind, email = "duplicate", rng.choice(recent)
            elif draw < shares.invalid + shares.duplicate + shares.existing:
                kind, email = "existing", existing_email(rng.randint(1, size))
            elif draw < shares.invalid + shares.duplicate + shares.existing + shares.suppressed:
                kind, email = "suppressed", suppressed_email(suppressed % int(size * 0.02 + 1))
                suppressed += 1
            else:
                kind = "new"
                email = f"{first}.{last}.n{number}@{EMAIL_DOMAINS[number % 2]}".replace(" ", "")
                recent.append(email)
                if len(recent) > 1_000:
                    recent.pop(0)
            made[kind] = made.get(kind, 0) + 1
            country = rng.choices(COUNTRIES, cum_weights=CUMULATIVE_COUNTRY_WEIGHTS)[0]
            job = rng.choice(JOB_TITLES)
            writer.writerow([email, first, last, phone, company, website, country, job, birth])
    return made


def _import_in_child(path: Path, folder: Path) -> dict:
    """Run the import in a new process on the run copy; return its JSON report."""
    env = {**os.environ, "PRIVATE_FILES_DIR": str(folder / "private")}
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 -- this interpreter, fixed code, bench arguments.
        [sys.executable, "-c", CHILD_CODE, RUN_DB_NAME, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise RuntimeError(f"The import process failed:\n{completed.stderr[-3000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    report["process_seconds"] = time.perf_counter() - started
    return report


def import_in_child() -> None:
    """Import the file argv[2] into the database argv[1]; print what it did as JSON."""
    # Imported as a Celery worker would import them, so their memory is part of the measure.
    from django.core.files import File

    import config.celery  # noqa: F401
    import crm.tasks  # noqa: F401
    from crm.imports.batches import Attestation, create_batch, run_batch

    path = Path(sys.argv[2])
    with using_database(sys.argv[1]):
        client = Client.objects.get(name=CLIENT_NAME)
        rss_before, measure_peak = start_peak_measure()
        staged_at: list[float] = []

        def progress(batch) -> None:
            if batch.rows_done == 0:
                staged_at.append(time.perf_counter())

        start = time.perf_counter()
        with path.open("rb") as handle:
            batch = create_batch(
                upload=File(handle, name=path.name),
                file_name=path.name,
                client=client,
                source_kind="client_list",
                list_name="Bench list",
                attestation=Attestation(
                    legal_basis="legitimate_interest",
                    text="Made-up list for the benchmark.",
                    collected_on=date(2026, 1, 1),
                ),
                mapping=MAPPING,
                actor=None,
                channel="bench",
            )
        created = time.perf_counter()
        batch = run_batch(batch_id=batch.pk, progress=progress)
        seconds = time.perf_counter() - start
        peak = measure_peak()
    report = {
        "seconds": seconds,
        "create_seconds": created - start,
        "stage_seconds": (staged_at[-1] - created) if staged_at else 0.0,
        "rss_before_mb": rss_before,
        "peak_mb": peak,
        "status": batch.status,
        "rows": batch.total_rows,
        "created": batch.created,
        "merged": batch.merged,
        "rejected": batch.rejected,
        "rejected_by_reason": batch.rejected_by_reason,
    }
    print(json.dumps(report))


def _floor(path: Path) -> float:
    """COPY the file into an unindexed table and merge it in SQL alone; return the seconds."""
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE floor_rows (email text, first_name text, last_name text, "
            "phone text, company text, website text, country text, job text, birth_date text)"
        )
        with (
            path.open("rb") as handle,
            cursor.cursor.copy("COPY floor_rows FROM STDIN (FORMAT csv, HEADER)") as copy,
        ):
            while data := handle.read(1024 * 1024):
                copy.write(data)
        cursor.execute(
            "CREATE TEMP TABLE floor_people AS SELECT DISTINCT ON (lower(email)) "
            "lower(email) COLLATE \"C\" AS email, coalesce(first_name, '') AS first_name, "
            "coalesce(last_name, '') AS last_name, coalesce(phone, '') AS phone, "
            "coalesce(left(country, 2), '') AS country "
            "FROM floor_rows WHERE position('@' IN email) > 1 ORDER BY lower(email)"
        )
        cursor.execute(
            "UPDATE crm_contact SET last_name = CASE WHEN crm_contact.last_name = '' "
            "THEN p.last_name ELSE crm_contact.last_name END, phone = CASE WHEN "
            "crm_contact.phone = '' THEN p.phone ELSE crm_contact.phone END, updated_at = now() "
            "FROM floor_people AS p WHERE crm_contact.email = p.email"
        )
        cursor.execute(
            "INSERT INTO crm_contact (first_name, last_name, email, email_hash, phone, job_title, "
            "country, language, relationship, is_restricted, email_status, "
            "created_at, updated_at) SELECT left(first_name, 100), left(last_name, 100), email, "
            "'', left(phone, 32), '', country, '', 'prospect', false, 'valid', now(), "
            "now() FROM floor_people ON CONFLICT (email) DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO crm_source (kind, name, url, client_id, created_at) "
            "VALUES ('third_party', 'Floor', '', NULL, now()) RETURNING id"
        )
        source_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO crm_contactsource (contact_id, source_id, collected_at, reference, "
            "created_at) SELECT c.id, %s, now(), 'floor', now() FROM floor_people AS p "
            "JOIN crm_contact AS c ON c.email = p.email",
            [source_id],
        )
    return time.perf_counter() - start


def _strip_to_minimal_schema() -> None:
    """Drop every index and constraint of the tables the floor writes but keys and unique email."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE conrelid IN ('crm_contact'::regclass, 'crm_contactsource'::regclass) "
            "AND contype IN ('f', 'u') AND pg_get_constraintdef(oid) <> 'UNIQUE (email)'"
        )
        for table, name in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid IN ('crm_contact'::regclass, 'crm_contactsource'::regclass) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)"
        )
        for (index,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {index}")


def _print_table(results: list[tuple[int, dict, float, float]]) -> None:
    print("\nList import, end to end (PostgreSQL); floors with the same schema and a minimal one")
    print(
        f"{'rows':>10} {'seconds':>8} {'rows/s':>9} {'staging':>8} {'peak MB':>8} {'floor s':>8} "
        f"{'ratio':>6} {'min. s':>7} {'ratio':>6}"
    )
    for size, report, floor, minimal in results:
        seconds = report["seconds"]
        print(
            f"{size:>10,} {seconds:>8.1f} {size / seconds:>9,.0f} "
            f"{report['stage_seconds']:>8.1f} {report['peak_mb']:>8.0f} {floor:>8.1f} "
            f"{seconds / floor:>6.1f} {minimal:>7.1f} {seconds / minimal:>6.1f}"
        )
        print(
            f"{'':>10} created {report['created']:,}, merged {report['merged']:,}, "
            f"rejected {report['rejected']:,} {json.dumps(report['rejected_by_reason'])}"
        )
