"""The nightly retention purge at scale: the inactivity rule removes half of the contacts.

PostgreSQL only. The benchmark seeds its own database, `crm_bench_purge`, once per scale: N
contacts of which every odd-numbered one (half) is a customer or subscriber last active three years
ago and the other half was active within the last year; every contact, inactive or not, has one
provenance row, one consent event, the consent state that points at it and one interaction, loaded
by COPY. (Campaign messages and events, which the issue names, are not seeded.) A purge destroys
its input, so each measurement runs on `crm_bench_purge_run`, a file
copy of the seeded database made just before it (CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY):
the same pages, statistics and visibility map every time, which re-inserting the deleted half
could not give without vacuuming it first.

1. The floor: on a fresh copy, the same rows are deleted by plain SQL in one transaction (each
   dependent table with `contact_id IN (SELECT id FROM crm_contact WHERE <the rule's
   condition>)`, then the contacts), timed with its COMMIT. Before it, one batch of 2,000 contacts
   goes through `remove_subjects` with every DELETE run as EXPLAIN ANALYZE and the foreign keys
   checked with their statement (but one, see _explain_one_batch), and is rolled back: the
   profile of one batch.
   The same floor runs again on a copy given back the foreign keys the links had before triggers
   replaced them (core/orphans.py): the previous schema's floor, beside this one's.
2. The purge: on another fresh copy, `privacy.deletion.retention.run_rule` runs the inactivity rule
in a separate worker-like process (Django with the bench settings, the Celery app and tasks
   imported). It reports the wall time, its peak resident memory (VmHWM after resetting it through
   /proc/self/clear_refs), the receipt of its `RetentionRun`, and the rows each transaction wrote,
   counted from the statements' row counts and closed at each COMMIT.
3. While it runs, this process GETs the admin's contact list once a second (django.test.Client,
   logged in as a superuser), after ten requests on the idle copy for comparison.

Both copies are checked afterwards: every inactive contact and its rows gone, every active one
kept. The copy is dropped at the end; the seeded database is kept for the next run.
"""

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import Client

from bench.admin_contacts import CHANGELIST, superuser
from bench.database import (
    PURGE_DB_NAME,
    PURGE_RUN_DB_NAME,
    copy_database,
    drop_database,
    ensure_database,
    recreate_database,
    using_database,
)
from bench.measuring import Figure, Timing, start_peak_measure, time_requests
from bench.seeding import (
    COMPANY_COLUMNS,
    CONTACTS_PER_COMPANY,
    COUNTRIES,
    CUMULATIVE_COUNTRY_WEIGHTS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    INTERACTION_COLUMNS,
    INTERACTION_SUBJECTS,
    JOB_TITLES,
    LANGUAGES,
    LAST_NAMES,
    NOW,
    PROVENANCE_COLUMNS,
    SEED,
    SEEDED_CONTACT_COLUMNS,
    Row,
    TableRows,
    bulk_load,
    company_rows,
    create_sources,
    vacuum_analyze,
)
from core.hashing import stored_email_hash
from core.orphans import drop_guard_sql, unconstrained_links
from crm.models import Company, Contact, ContactSource, Interaction, Source
from privacy.deletion.removal import remove_subjects
from privacy.deletion.retention import BATCH_SIZE, expired
from privacy.models import ConsentEvent, ConsentState, NoticeVersion, Purpose, RetentionRule
from tests.two_factor import mark_verified

ROOT = Path(__file__).resolve().parent.parent
RULE_KIND = "inactive_customers_subscribers"
INACTIVE_RELATIONSHIPS = (
    Contact.Relationship.CUSTOMER.value,
    Contact.Relationship.SUBSCRIBER.value,
)
# The inactive half was last active three years (and up to half a year more) before NOW.
INACTIVE_SINCE = timedelta(days=3 * 365)
# The rows one contact has, contact included: what one batch of the rule deletes per contact.
DEPENDENTS = (ConsentState, ConsentEvent, Interaction, ContactSource)
ROWS_PER_CONTACT = 1 + len(DEPENDENTS)
CONSENT_COLUMNS = (
    "id",
    "contact_id",
    "purpose_id",
    "action",
    "wording",
    "notice_version_id",
    "channel",
    "occurred_at",
    "recorded_at",
    "backdate_reason",
    "language",
    "user_agent",
    "ip_address",
    "evidence",
    "recorded_by_id",
    "idempotency_key",
)
STATE_COLUMNS = ("id", "contact_id", "purpose_id", "status", "last_event_id", "since")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
# The rule's condition in plain SQL, for the floor; none of the seeded contacts is anonymised.
EXPIRED_CONDITION = (
    "relationship IN ('customer', 'subscriber') "
    "AND COALESCE(last_activity_at, created_at) < %s AND NOT is_restricted"
)
EXPIRED_CONTACTS = f"SELECT id FROM crm_contact WHERE {EXPIRED_CONDITION}"  # noqa: S608

GOAL_SECONDS = 60.0
GOAL_ROWS_PER_TRANSACTION = 10_000
GOAL_PEAK_MB = 150.0
# The admin list's own goal (docs/performance.md): every p95 under 300 ms.
ADMIN_GOAL_MS = 300.0
ADMIN_INTERVAL_SECONDS = 1.0
ADMIN_IDLE_REQUESTS = 10
# A purge that has not ended after this long is killed and the benchmark fails.
CHILD_TIMEOUT_SECONDS = 3600
SELECTS_KEPT = 5
PLAN_LINES_SHOWN = 4
CHILD_CODE = (
    "import django; django.setup(); from bench.purge import purge_in_child; purge_in_child()"
)


@dataclass(frozen=True)
class Floor:
    """The plain-SQL deletion: seconds per statement, its COMMIT, and the rows it deleted."""

    seconds: float
    steps: dict[str, tuple[int, float]]
    commit_seconds: float


@dataclass(frozen=True)
class ExplainedStatement:
    """One statement of the profiled batch: its time and, for a DELETE, its plan's key lines."""

    label: str
    ms: float
    lines: list[str]


@dataclass(frozen=True)
class Purge:
    """What the worker-like process reported, and the admin's times around it."""

    report: dict[str, Any]
    idle: Timing
    during: Timing | None
    process_seconds: float

    @property
    def rows_deleted(self) -> int:
        """Return the rows the receipt says were deleted, contacts included."""
        return sum(self.report["receipt"].values())


@dataclass
class TransactionTally:
    """Count the rows each transaction writes, from its statements' row counts.

    Statements inside an atomic block add to the open transaction, which `commit` closes; a
    statement outside one is a transaction of its own. Only a few numbers and labels are kept, so
    the tally costs the same memory however many batches run.
    """

    largest: int = 0
    largest_tables: dict[str, int] = field(default_factory=dict)
    open_rows: dict[str, int] = field(default_factory=dict)
    transactions: int = 0
    statements: dict[str, list[float]] = field(default_factory=dict)
    commits: list[float] = field(default_factory=lambda: [0, 0.0, 0.0])
    first_selects: list[float] = field(default_factory=list)
    last_selects: deque = field(default_factory=lambda: deque(maxlen=SELECTS_KEPT))

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict
    ) -> Any:
        start = time.perf_counter()
        result = execute(sql, params, many, context)
        ms = (time.perf_counter() - start) * 1000
        inside = context["connection"].in_atomic_block
        verb, table = _verb_and_table(sql)
        label = f"{verb} {table}" + ("" if inside else " (own transaction)")
        count, total, longest = self.statements.get(label, [0, 0.0, 0.0])
        self.statements[label] = [count + 1, total + ms, max(longest, ms)]
        if verb == "SELECT" and table == "crm_contact" and not inside and "LIMIT" in sql:
            # The rule's selection of the next batch of expired contacts.
            if len(self.first_selects) < SELECTS_KEPT:
                self.first_selects.append(ms)
            self.last_selects.append(ms)
        if verb in {"DELETE", "UPDATE", "INSERT"}:
            rows = max(context["cursor"].rowcount, 0)
            if inside:
                self.open_rows[table] = self.open_rows.get(table, 0) + rows
            else:
                self._close({table: rows})
        return result

    def commit(self, ms: float) -> None:
        """Close the open transaction at its COMMIT, which took `ms`."""
        count, total, longest = self.commits
        self.commits = [count + 1, total + ms, max(longest, ms)]
        self._close(self.open_rows)
        self.open_rows = {}

    def _close(self, tables: dict[str, int]) -> None:
        self.transactions += 1
        if sum(tables.values()) > self.largest:
            self.largest = sum(tables.values())
            self.largest_tables = dict(tables)


def run(*, scale: int) -> list[Figure]:
    """Seed (once per scale), measure the floor and the purge, print them; return the figures."""
    if connection.vendor != "postgresql":
        print("\npurge: PostgreSQL only (it copies template databases); skipped on SQLite.")
        return []
    seed_seconds = _prepare_seeded_database(scale)
    inactive = (scale + 1) // 2
    start = time.perf_counter()
    copy_database(PURGE_DB_NAME, PURGE_RUN_DB_NAME)
    copy_seconds = time.perf_counter() - start
    print(f"Copied {PURGE_DB_NAME} to {PURGE_RUN_DB_NAME} in {copy_seconds:.1f} s.", flush=True)
    try:
        with using_database(PURGE_RUN_DB_NAME):
            batch = _explain_one_batch()
            floor = _floor()
            _check_purged(scale, inactive, what="the plain-SQL floor")
        copy_database(PURGE_DB_NAME, PURGE_RUN_DB_NAME)
        with using_database(PURGE_RUN_DB_NAME):
            _restore_previous_schema()
            previous = _floor()
            _check_purged(scale, inactive, what="the floor with the previous schema")
        copy_database(PURGE_DB_NAME, PURGE_RUN_DB_NAME)
        with using_database(PURGE_RUN_DB_NAME):
            purge = _purge()
            _check_purged(scale, inactive, what="run_rule")
    finally:
        drop_database(PURGE_RUN_DB_NAME)
    _print_table(purge, floor, scale=scale, inactive=inactive, copy_seconds=copy_seconds)
    print(
        f"floor with the previous schema (every link a foreign key): "
        f"{previous.seconds:.1f} s, of which COMMIT {previous.commit_seconds:.1f} s; with this "
        f"schema {floor.seconds:.1f} s, of which COMMIT {floor.commit_seconds:.1f} s"
    )
    _print_diagnosis(purge, floor, batch)
    report = purge.report
    figures = [
        Figure("purge_seconds", report["seconds"], "s", floor=round(floor.seconds, 2)),
        Figure("purge_floor_commit_seconds", floor.commit_seconds, "s"),
        Figure("purge_floor_previous_schema_seconds", previous.seconds, "s"),
        Figure("purge_floor_previous_schema_commit_seconds", previous.commit_seconds, "s"),
        Figure("purge_rows_deleted", purge.rows_deleted, "rows"),
        Figure("purge_contacts_deleted", report["receipt"].get("crm.contact", 0), "rows"),
        Figure("purge_batches", report["batches"], "batches"),
        Figure("purge_peak_rss_mb", report["peak_mb"], "MB"),
        Figure("purge_rss_before_mb", report["rss_before_mb"], "MB"),
        Figure("max_rows_per_transaction", _personal_rows(report["largest_tables"]), "rows"),
        Figure("max_rows_per_transaction_with_receipt", report["largest"], "rows"),
        Figure("admin_idle_median_ms", purge.idle.median, "ms"),
        Figure("copy_seconds", copy_seconds, "s"),
    ]
    if purge.during is not None:
        figures += [
            Figure("admin_during_purge_median_ms", purge.during.median, "ms"),
            Figure("admin_during_purge_p95_ms", purge.during.p95, "ms"),
            Figure("admin_during_purge_max_ms", max(purge.during.samples), "ms"),
            Figure("admin_during_purge_requests", len(purge.during.samples), "requests"),
        ]
    if seed_seconds is not None:
        figures.append(Figure("seed_seconds", seed_seconds, "s"))
    return figures


# The seeded database -----------------------------------------------------------------------------


def _prepare_seeded_database(scale: int) -> float | None:
    """Create, migrate and seed crm_bench_purge unless it holds `scale` contacts already.

    Return the seconds seeding took, or None when the database was reused.
    """
    with using_database(PURGE_DB_NAME):
        created = ensure_database()
        if not created and Contact.objects.count() == scale:
            print(f"Reusing {PURGE_DB_NAME}: it holds {scale:,} contacts.", flush=True)
            return None
        print(f"Seeding {PURGE_DB_NAME} with {scale:,} contacts…", flush=True)
        start = time.perf_counter()
        if not created:
            recreate_database()
        _seed(scale)
        # The admin user is in the template, so neither copy is written to before it is measured.
        superuser()
        seconds = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
    print(f"Seeded in {seconds:.1f} s; the database takes {size}.", flush=True)
    return seconds


def _seed(scale: int) -> None:
    """Load the companies, contacts and their rows in one transaction, then vacuum and analyse."""
    rng = random.Random(SEED)
    companies = max(1, scale // CONTACTS_PER_COMPANY)
    purposes = {p.code: p for p in Purpose.objects.filter(legal_basis=Purpose.LegalBasis.CONSENT)}
    notice = NoticeVersion.objects.filter(published_at__isnull=False).order_by("-effective_at")
    notice_id = notice.values_list("pk", flat=True).first()
    with transaction.atomic():
        sources = create_sources()
        tables = (
            TableRows(Company, COMPANY_COLUMNS, company_rows(rng, companies)),
            TableRows(Contact, SEEDED_CONTACT_COLUMNS, _contacts(rng, scale, companies)),
            TableRows(ContactSource, PROVENANCE_COLUMNS, _provenance(rng, scale, sources)),
            TableRows(ConsentEvent, CONSENT_COLUMNS, _consent_events(scale, purposes, notice_id)),
            TableRows(ConsentState, STATE_COLUMNS, _consent_states(scale, purposes)),
            TableRows(Interaction, INTERACTION_COLUMNS, _interactions(rng, scale)),
        )
        bulk_load(tables)
    vacuum_analyze(tables)


def _is_inactive(pk: int) -> bool:
    return pk % 2 == 1


def _relationship(pk: int) -> str:
    """Inactive contacts are customers and subscribers in turn; active ones of every kind."""
    if _is_inactive(pk):
        return INACTIVE_RELATIONSHIPS[(pk // 2) % 2]
    values = Contact.Relationship.values
    return values[(pk // 2) % len(values)]


def _activity(pk: int) -> datetime:
    """Return the contact's last activity: three years ago and more, or within the last year."""
    # Spread by a multiplicative hash of the id, not the shared generator, so that every table
    # can repeat the contact's dates cheaply.
    spread = pk * 2_654_435_761 % (2**32)
    if _is_inactive(pk):
        return NOW - INACTIVE_SINCE - timedelta(seconds=spread % (180 * 86_400))
    return NOW - timedelta(seconds=spread % (365 * 86_400))


def _created(pk: int) -> datetime:
    return _activity(pk) - timedelta(days=1 + pk % 900)


def _contacts(rng: random.Random, count: int, companies: int) -> Iterator[Row]:
    for pk in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country = rng.choices(COUNTRIES, cum_weights=CUMULATIVE_COUNTRY_WEIGHTS)[0]
        created = _created(pk)
        email = f"{first}.{last.replace(' ', '')}{pk}".lower() + f"@{EMAIL_DOMAINS[pk % 2]}"
        yield (
            pk,
            first,
            last,
            email,
            "",
            rng.choice(JOB_TITLES),
            rng.randint(1, companies) if rng.random() < 0.9 else None,
            country,
            LANGUAGES.get(country, "en"),
            None,
            _relationship(pk),
            _activity(pk),
            # A few active contacts are restricted; no inactive one, so the rule takes every one.
            pk % 500 == 0,
            Contact.EmailStatus.VALID.value,
            created,
            created,
            stored_email_hash(email),
        )


def _provenance(rng: random.Random, count: int, sources: list[Source]) -> Iterator[Row]:
    for pk in range(1, count + 1):
        source = rng.choice(sources)
        collected = _created(pk)
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


def _purpose(pk: int, purposes: dict[str, Purpose]) -> Purpose:
    """Subscribers consented to the newsletter, everyone else to marketing e-mail."""
    key = (
        "newsletter" if _relationship(pk) == Contact.Relationship.SUBSCRIBER else "marketing_email"
    )
    return purposes[key]


def _consent_events(
    count: int, purposes: dict[str, Purpose], notice_id: int | None
) -> Iterator[Row]:
    channels = (ConsentEvent.Channel.WEB_FORM.value, ConsentEvent.Channel.DOUBLE_OPT_IN.value)
    for pk in range(1, count + 1):
        purpose = _purpose(pk, purposes)
        yield (
            pk,
            pk,
            purpose.pk,
            ConsentEvent.Action.GRANT.value,
            purpose.consent_text,
            notice_id,
            channels[pk % 2],
            _created(pk),
            _created(pk),
            "",
            "en",
            USER_AGENT,
            None,
            "",
            None,
            None,
        )


def _consent_states(count: int, purposes: dict[str, Purpose]) -> Iterator[Row]:
    """One state per contact, its `last_event` the contact's one event (same id)."""
    for pk in range(1, count + 1):
        status = ConsentEvent.Action.GRANT.value
        yield (pk, pk, _purpose(pk, purposes).pk, status, pk, _created(pk))


def _interactions(rng: random.Random, count: int) -> Iterator[Row]:
    kinds = [kind for kind in INTERACTION_SUBJECTS if kind != Interaction.Kind.CONTACT_FORM]
    for pk in range(1, count + 1):
        kind = rng.choice(kinds)
        occurred = _activity(pk)
        subject = INTERACTION_SUBJECTS[kind]
        yield (pk, pk, kind.value, occurred, subject, "Made-up note.", None, occurred)


# The floor and the profile of one batch ----------------------------------------------------------


def _explain_one_batch() -> list[ExplainedStatement]:
    """Remove the first batch through remove_subjects with each DELETE under EXPLAIN ANALYZE.

    Foreign keys left are checked per statement (SET CONSTRAINTS ALL IMMEDIATE), so each plan
    shows what its checks and the orphan triggers cost. The transaction is rolled back.
    """
    rule = RetentionRule.objects.get(kind=RULE_KIND)
    rows, _ = expired(rule, now=NOW)
    ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
    explained: list[ExplainedStatement] = []

    def explain_deletes(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict
    ) -> Any:
        verb, table = _verb_and_table(sql)
        start = time.perf_counter()
        if verb != "DELETE":
            result = execute(sql, params, many, context)
            ms = (time.perf_counter() - start) * 1000
            explained.append(ExplainedStatement(f"{verb} {table}", ms, []))
            return result
        result = execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params, many, context)
        lines = [row[0] for row in context["cursor"].fetchall()]
        ms = (time.perf_counter() - start) * 1000
        key_lines = [
            line.strip()
            for line in lines
            if line.startswith(("Trigger", "Execution Time")) or ("Scan" in line and "->" in line)
        ]
        explained.append(ExplainedStatement(f"DELETE {table}", ms, key_lines))
        return result

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with connection.execute_wrapper(explain_deletes):
                remove_subjects(ids)
            transaction.set_rollback(True)
    finally:
        # The aborted deletes leave dead row versions; vacuum them as autovacuum would.
        with connection.cursor() as cursor:
            for model in (Contact, *DEPENDENTS):
                cursor.execute(f'VACUUM "{model._meta.db_table}"')
    return explained


def _cutoff() -> datetime:
    """Return the moment before which the inactivity rule's contacts have expired, at NOW."""
    return NOW - timedelta(days=RetentionRule.objects.get(kind=RULE_KIND).period_days)


def _floor_statements() -> dict[str, str]:
    """Return the floor's DELETE per table: the dependents first, then the contacts.

    Table names come from the models and the cutoff is a parameter: no outside input.
    """
    statements = {}
    for model in DEPENDENTS:
        table = model._meta.db_table
        where = f"contact_id IN ({EXPIRED_CONTACTS})"
        statements[table] = f'DELETE FROM "{table}" WHERE {where}'  # noqa: S608
    statements["crm_contact"] = f"DELETE FROM crm_contact WHERE {EXPIRED_CONDITION}"  # noqa: S608
    return statements


def _floor() -> Floor:
    """Delete the expired contacts and their rows in plain SQL, in one transaction; time it."""
    cutoff = _cutoff()
    steps: dict[str, tuple[int, float]] = {}
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table, statement in _floor_statements().items():
                step = time.perf_counter()
                cursor.execute(statement, [cutoff])
                steps[table] = (cursor.rowcount, time.perf_counter() - step)
        commit_start = time.perf_counter()
    end = time.perf_counter()
    return Floor(seconds=end - start, steps=steps, commit_seconds=end - commit_start)


def _restore_previous_schema() -> None:
    """Give the copy back the foreign keys the unconstrained links had, without the triggers.

    Added NOT VALID (the seeded rows are not re-checked) and deferred, as Django declared them.
    Names come from the models: no outside input.
    """
    links = unconstrained_links()
    with connection.cursor() as cursor:
        cursor.execute(drop_guard_sql(links))
        for table, column, target in links:
            cursor.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{column}_bench_fk" '
                f'FOREIGN KEY ("{column}") REFERENCES "{target}" (id) '
                "DEFERRABLE INITIALLY DEFERRED NOT VALID"
            )


def _check_purged(scale: int, inactive: int, *, what: str) -> None:
    """Fail unless every table holds exactly the active contacts' rows."""
    expected = scale - inactive
    cutoff = _cutoff()
    with connection.cursor() as cursor:
        for model in (Contact, *DEPENDENTS):
            table = model._meta.db_table
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 -- a model's table
            found = cursor.fetchone()[0]
            if found != expected:
                raise RuntimeError(f"After {what}, {table} holds {found:,} rows, not {expected:,}.")
        cursor.execute(f"SELECT count(*) FROM ({EXPIRED_CONTACTS}) e", [cutoff])  # noqa: S608
        if cursor.fetchone()[0]:
            raise RuntimeError(f"After {what}, expired contacts are left.")


# The purge in a worker-like process --------------------------------------------------------------


def _purge() -> Purge:
    """Run the rule in a new process; GET the admin list once a second until it ends."""
    client = Client()
    client.force_login(superuser())
    # A superuser's admin session needs the second factor: the bench's user passes it.
    mark_verified(client, superuser())
    idle = time_requests(client, CHANGELIST, runs=ADMIN_IDLE_REQUESTS)
    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-purge-") as folder:
        out_path, err_path = Path(folder) / "stdout", Path(folder) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            start = time.perf_counter()
            child = subprocess.Popen(  # noqa: S603 -- this interpreter, fixed code, a bench name.
                [sys.executable, "-c", CHILD_CODE, PURGE_RUN_DB_NAME],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=out,
                stderr=err,
            )
            try:
                samples = _watch_admin(child, client)
            finally:
                if child.poll() is None:
                    child.kill()
                child.wait(timeout=60)
            process_seconds = time.perf_counter() - start
        stdout = out_path.read_text(errors="replace")
        stderr = err_path.read_text(errors="replace")
    if child.returncode != 0 or not stdout.strip():
        raise RuntimeError(f"The purge process failed ({child.returncode}):\n{stderr}")
    report = json.loads(stdout.strip().splitlines()[-1])
    # Only the requests that started while run_rule was running count as "during".
    during = [ms for at, ms in samples if report["started"] <= at <= report["finished"]]
    return Purge(
        report=report,
        idle=idle,
        during=Timing(during) if during else None,
        process_seconds=process_seconds,
    )


def _watch_admin(child: subprocess.Popen, client: Client) -> list[tuple[float, float]]:
    """GET the contact list every ADMIN_INTERVAL_SECONDS while the child runs.

    Return (wall-clock start, milliseconds) per request. A child still running after
    CHILD_TIMEOUT_SECONDS is killed and the benchmark fails.
    """
    samples = []
    deadline = time.monotonic() + CHILD_TIMEOUT_SECONDS
    tick = time.monotonic()
    while child.poll() is None:
        if time.monotonic() > deadline:
            child.kill()
            raise RuntimeError(f"The purge ran longer than {CHILD_TIMEOUT_SECONDS} s.")
        at = time.time()
        start = time.perf_counter()
        response = client.get(CHANGELIST)
        ms = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise RuntimeError(
                f"GET {CHANGELIST} answered {response.status_code} during the purge."
            )
        samples.append((at, ms))
        tick += ADMIN_INTERVAL_SECONDS
        # Sleep in short steps, so the end of the child is seen within a tenth of a second.
        while child.poll() is None and time.monotonic() < tick:
            time.sleep(min(0.1, max(0.0, tick - time.monotonic())))
    return samples


def purge_in_child() -> None:
    """Run the inactivity rule on the database named by argv[1]; print what it did as JSON."""
    # Imported as a Celery worker would import them, so their memory is part of the measure.
    import config.celery  # noqa: F401
    import privacy.tasks  # noqa: F401
    from privacy.deletion.retention import run_rule

    with using_database(sys.argv[1]):
        rule = RetentionRule.objects.get(kind=RULE_KIND)
        tally = TransactionTally()
        wrapper = connection._commit  # the connection is opened already: the rule was read

        def timed_commit() -> None:
            start = time.perf_counter()
            wrapper()
            tally.commit((time.perf_counter() - start) * 1000)

        connection._commit = timed_commit
        rss_before, measure_peak = start_peak_measure()
        started = time.time()
        start = time.perf_counter()
        with connection.execute_wrapper(tally):
            run = run_rule(rule, now=NOW)
        seconds = time.perf_counter() - start
        finished = time.time()
        peak = measure_peak()
    report = {
        "seconds": seconds,
        "started": started,
        "finished": finished,
        "rss_before_mb": rss_before,
        "peak_mb": peak,
        "status": run.status,
        "acted": run.acted,
        "batches": run.batches,
        "held": run.held,
        "skipped_restricted": run.skipped_restricted,
        "receipt": run.receipt,
        "largest": tally.largest,
        "largest_tables": tally.largest_tables,
        "transactions": tally.transactions,
        "statements": tally.statements,
        "commits": tally.commits,
        "first_selects_ms": tally.first_selects,
        "last_selects_ms": list(tally.last_selects),
    }
    print(json.dumps(report))


# Output ------------------------------------------------------------------------------------------


def _print_table(purge: Purge, floor: Floor, *, scale: int, inactive: int, copy_seconds: float):
    report = purge.report
    print(
        f"\npurge: {scale:,} contacts, {inactive:,} of them customers or subscribers last active\n"
        f"three years ago; each contact has {ROWS_PER_CONTACT} rows (contact, provenance, consent "
        "event and state,\ninteraction). Campaign events do not exist yet in this codebase."
    )
    print(f"{'measure':<52}{'value':>14}{'goal':>12}")
    computed = BATCH_SIZE * ROWS_PER_CONTACT
    personal = _personal_rows(report["largest_tables"])
    during = purge.during
    per_million = 1_000_000 / inactive
    rows = [
        ("purge through run_rule, wall time (s)", f"{report['seconds']:.1f}", ""),
        (
            "  … per million contacts removed (s)",
            f"{report['seconds'] * per_million:.1f}",
            f"< {GOAL_SECONDS:g}",
        ),
        ("floor: the same deletion in plain SQL, one tx (s)", f"{floor.seconds:.1f}", ""),
        ("  … per million contacts removed (s)", f"{floor.seconds * per_million:.1f}", "(~22)"),
        ("rows deleted by run_rule", f"{purge.rows_deleted:,}", ""),
        ("rows deleted by the floor", f"{sum(n for n, _ in floor.steps.values()):,}", ""),
        ("batches (transactions of the rule)", f"{report['batches']:,}", ""),
        (
            "largest transaction: personal rows written",
            f"{personal:,}",
            f"<= {GOAL_ROWS_PER_TRANSACTION:,}",
        ),
        ("  … with the RetentionRun receipt's update", f"{report['largest']:,}", ""),
        (f"  computed: {BATCH_SIZE:,} contacts x {ROWS_PER_CONTACT} rows", f"{computed:,}", ""),
        ("worker peak RSS (MB)", f"{report['peak_mb']:.1f}", f"< {GOAL_PEAK_MB:g}"),
        ("worker RSS before run_rule (MB)", f"{report['rss_before_mb']:.1f}", ""),
        ("admin list, idle copy: median (ms)", f"{purge.idle.median:.1f}", ""),
    ]
    if during is not None:
        rows += [
            ("admin list during the purge: median (ms)", f"{during.median:.1f}", ""),
            ("admin list during the purge: p95 (ms)", f"{during.p95:.1f}", f"< {ADMIN_GOAL_MS:g}"),
            ("admin list during the purge: max (ms)", f"{max(during.samples):.1f}", ""),
            ("admin requests during the purge", f"{len(during.samples)}", ""),
        ]
    for label, value, goal in rows:
        print(f"{label:<52}{value:>14}{goal:>12}")
    print(f"receipt: {report['receipt']}")
    print(
        f"status {report['status']}, held {report['held']}, restricted skipped "
        f"{report['skipped_restricted']}; template copy {copy_seconds:.1f} s; worker process "
        f"{purge.process_seconds:.1f} s in all"
    )
    if computed > GOAL_ROWS_PER_TRANSACTION:
        print(
            f"BATCH_SIZE {BATCH_SIZE:,} x {ROWS_PER_CONTACT} rows per contact exceeds "
            f"{GOAL_ROWS_PER_TRANSACTION:,} rows per transaction."
        )


def _print_diagnosis(purge: Purge, floor: Floor, batch: list[ExplainedStatement]) -> None:
    report = purge.report
    print("\nfloor, per statement:")
    for table, (rows, seconds) in floor.steps.items():
        print(f"  DELETE {table:<24}{rows:>12,} rows{seconds:>9.1f} s")
    print(f"  COMMIT (deferred foreign-key checks){floor.commit_seconds:>21.1f} s")
    count, total, longest = report["commits"]
    print(f"\nrun_rule, in the worker ({report['transactions']:,} transactions):")
    print(f"  {'COMMIT':<44}{count:>7,}{total / 1000:>9.1f} s  max {longest:>8.1f} ms")
    ranked = sorted(report["statements"].items(), key=lambda item: item[1][1], reverse=True)
    for label, (count, total, longest) in ranked[:12]:
        print(f"  {label:<44}{count:>7,}{total / 1000:>9.1f} s  max {longest:>8.1f} ms")
    accounted = sum(s[1] for s in report["statements"].values()) + report["commits"][1]
    print(
        f"  Python and the network between statements: {report['seconds'] - accounted / 1000:.1f} s"
    )
    firsts = ", ".join(f"{ms:.0f}" for ms in report["first_selects_ms"])
    lasts = ", ".join(f"{ms:.0f}" for ms in report["last_selects_ms"])
    print(f"  selection of the next batch, first batches: {firsts} ms; last: {lasts} ms")
    print(
        f"\none batch of {BATCH_SIZE:,} through remove_subjects, DELETEs explained, FKs immediate:"
    )
    for statement in batch:
        print(f"  {statement.ms:>8.1f} ms  {statement.label}")
        for line in statement.lines[:PLAN_LINES_SHOWN]:
            print(f"              {line}")
        if len(statement.lines) > PLAN_LINES_SHOWN:
            print(f"              … {len(statement.lines) - PLAN_LINES_SHOWN} more")


def _personal_rows(tables: dict[str, int]) -> int:
    """Leave out the rule's own bookkeeping row."""
    return sum(n for table, n in tables.items() if table != "privacy_retentionrun")


def _verb_and_table(sql: str) -> tuple[str, str]:
    """Return the statement's verb and the first table it names."""
    verb = sql.lstrip().split(None, 1)[0].upper()
    found = re.search(r'(?:FROM|UPDATE|INTO)\s+"(\w+)"', sql)
    return verb, found.group(1) if found else "?"
