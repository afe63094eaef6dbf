"""Data-subject requests at scale: one heavy subject's export and erasure, and the public form.

A new contact is given 100,000 personal rows in the declared models that exist today: 50,000
consent-ledger events, 30,000 interactions and 20,000 provenance rows (campaign messages and
tracking events do not exist yet), loaded by COPY on PostgreSQL and by bulk_create elsewhere. Its
access export (privacy.requests.exports.export_subject) runs in a fresh Python process, which
reports the wall time, the queries and its peak resident memory above what it held just before the
export; the zip's rows are counted here. The contact is then erased with its certificate
(privacy.deletion.erasure.erase_subject), timed here with its queries. This repeats RUNS times, the
subject re-created each time. Last, a real gunicorn server on 127.0.0.1 answers the public request
form: 200 posts for a known address and 200 for an unknown one, interleaved and timed from the
outside with httpx. The server gets a throwaway VAR_DIR, so the verification mails it queues land
in a file-system broker there that no worker reads. Everything the bench adds is removed again.
"""

import json
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from bench.measuring import (
    TRANSACTION_STATEMENTS,
    CapturedQuery,
    Figure,
    Timing,
    capture_call,
    explain,
    start_peak_measure,
)
from bench.seeding import Row, TableRows, load_rows
from core.models import AuditEvent
from core.registry import registry
from crm.models import Contact, ContactSource, Interaction, Source, Suppression
from crm.suppression import email_hash
from privacy.deletion.erasure import erase_subject
from privacy.models import ConsentEvent, ErasureCertificate, NoticeVersion, Purpose, SubjectRequest
from privacy.requests.exports import export_subject

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
# The heavy subject's personal rows per table; the zip also holds the contact's own row.
HEAVY_ROWS: dict[type[Model], int] = {
    ConsentEvent: 50_000,
    Interaction: 30_000,
    ContactSource: 20_000,
}
HEAVY_CONTACT = {
    # A name and phone no seeded contact has: the erasure's scan must find nobody else.
    "first_name": "Hedwig",
    "last_name": "Benchmarkova",
    "email": "hedwig.benchmarkova@bench.example.com",
    "phone": "+441632960001",
    "country": "NL",
    "language": "nl",
}
UNKNOWN_EMAIL = "nobody.known@bench.example.com"
FORM_URL = "/privacy/requests/new/"
SENT_URL = "/privacy/requests/sent/"
FORM_REQUESTS = 200
FORM_WARMUPS = 10
SERVER_START_SECONDS = 60
# Runs the export in a fresh interpreter, so its memory is its own (see export_in_child).
CHILD_CODE = (
    "import django; django.setup(); "
    "from bench.subject_requests import export_in_child; export_in_child()"
)
CONSENT_COLUMNS = (
    "contact_id",
    "purpose_id",
    "action",
    "wording",
    "notice_version_id",
    "channel",
    "occurred_at",
    "user_agent",
    "ip_address",
    "evidence",
    "recorded_by_id",
    "idempotency_key",
    "backdate_reason",
    "recorded_at",
    "language",
)
INTERACTION_COLUMNS = (
    "contact_id",
    "kind",
    "occurred_at",
    "subject",
    "body",
    "staff_id",
    "answered_at",
    "created_at",
)
PROVENANCE_COLUMNS = (
    "contact_id",
    "source_id",
    "collected_at",
    "reference",
    "collected_by_id",
    "informed_at",
    "created_at",
)
EXPORT_GOAL_SECONDS = 1.0
EXPORT_GOAL_MB = 100.0
ERASE_GOAL_SECONDS = 2.0
FORM_GAP_GOAL_MS = 10.0
SLOWEST_SHOWN = 5
PLAN_LINES = 12


@dataclass(frozen=True)
class ChildExport:
    """What the export process reported: time, memory, queries, rows and the zip's path."""

    seconds: float
    rss_before_mb: float
    peak_mb: float
    queries: int
    rows: int
    path: Path


@dataclass(frozen=True)
class HeavyRun:
    """One export and erasure of the heavy subject."""

    export: ChildExport
    zip_rows: dict[str, int]
    floor_seconds: float
    erase_seconds: float
    rows_found: int
    removed: dict[str, int]
    scan: dict[str, int]
    erase_queries: list[CapturedQuery]


@dataclass(frozen=True)
class FormResult:
    """The public form's response times for a known and an unknown address."""

    known: Timing
    unknown: Timing
    answers: set[tuple[int, str, int]]

    @property
    def gap(self) -> float:
        """Return the known address's median minus the unknown one's, in milliseconds."""
        return self.known.median - self.unknown.median


def run(*, scale: int) -> list[Figure]:
    """Measure the heavy subject's export and erasure and the public form; return the figures."""
    known = Contact.objects.filter(email__isnull=False).order_by("pk").values_list("email")[0][0]
    _remove_leftovers(known=known)
    if Contact.objects.filter(email=UNKNOWN_EMAIL).exists():
        raise RuntimeError(f"{UNKNOWN_EMAIL} is a contact: it cannot stand for an unknown address.")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-subject-requests-") as folder:
            runs = [_heavy_run(Path(folder)) for _ in range(RUNS)]
            form = _time_form(Path(folder), known=known)
    finally:
        # A subject left behind would change the contact count, and the next run would re-seed.
        _remove_leftovers(known=known)
        _vacuum()
    _print_table(runs, form, scale=scale)
    _print_diagnosis(runs)
    exports = [r.export for r in runs]
    erasures = [r.erase_seconds for r in runs]
    return [
        Figure("export_seconds", statistics.median(e.seconds for e in exports), "s"),
        Figure("export_seconds_max", max(e.seconds for e in exports), "s"),
        Figure("export_peak_mb", statistics.median(e.peak_mb for e in exports), "MB"),
        Figure("export_peak_mb_max", max(e.peak_mb for e in exports), "MB"),
        Figure("export_floor_seconds", statistics.median(r.floor_seconds for r in runs), "s"),
        Figure("export_rows", runs[-1].export.rows, "rows"),
        Figure("export_queries", runs[-1].export.queries, "queries"),
        Figure("erase_seconds", statistics.median(erasures), "s"),
        Figure("erase_seconds_max", max(erasures), "s"),
        Figure("erase_rows_found", max(r.rows_found for r in runs), "rows"),
        Figure("erase_queries", len(_statements(runs[-1].erase_queries)), "queries"),
        Figure("form_known_median_ms", form.known.median, "ms"),
        Figure("form_unknown_median_ms", form.unknown.median, "ms"),
        Figure("form_known_p95_ms", form.known.p95, "ms"),
        Figure("form_unknown_p95_ms", form.unknown.p95, "ms"),
        Figure("form_timing_gap_ms", abs(form.gap), "ms"),
    ]


# The heavy subject -------------------------------------------------------------------------------


def _heavy_run(folder: Path) -> HeavyRun:
    """Create the heavy subject, export it in a fresh process, count the zip, erase it."""
    contact = _create_heavy_subject()
    export = _export_in_fresh_process(contact, folder)
    zip_rows = _zip_rows(export.path)
    expected = sum(HEAVY_ROWS.values()) + 1
    if sum(zip_rows.values()) != expected or export.rows != expected:
        raise RuntimeError(
            f"The export holds {sum(zip_rows.values()):,} rows (it says {export.rows:,}), "
            f"not {expected:,}: {zip_rows}"
        )
    export.path.unlink()
    floor_seconds = _json_agg_floor(contact)
    start = time.perf_counter()
    certificate, queries = capture_call(
        lambda: erase_subject(contact=contact, requested_by=None, channel="command")
    )
    erase_seconds = time.perf_counter() - start
    _remove_erasure_traces()
    print(
        f"  run: export {export.seconds:.2f} s, resident {export.rss_before_mb:.0f} MB before "
        f"and at most {export.peak_mb:.0f} MB more, "
        f"erasure {erase_seconds:.2f} s, rows found {certificate.rows_found}",
        flush=True,
    )
    return HeavyRun(
        export=export,
        zip_rows=zip_rows,
        floor_seconds=floor_seconds,
        erase_seconds=erase_seconds,
        rows_found=certificate.rows_found,
        removed=dict(certificate.removed),
        scan=dict(certificate.scan),
        erase_queries=queries,
    )


def _json_agg_floor(contact: Contact) -> float:
    """Time PostgreSQL's json_agg of the same rows of every declared table, read by the client."""
    start = time.perf_counter()
    for declaration in registry:
        queryset = declaration.rows_for(contact_ids=[contact.pk])
        try:
            selected, params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            continue
        opts = declaration.model._meta
        table, pk = connection.ops.quote_name(opts.db_table), opts.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                # Names from the model, values as parameters.
                f"SELECT json_agg(t ORDER BY t.{pk})::text FROM {table} AS t "  # noqa: S608
                f"WHERE t.{pk} IN ({selected})",
                params,
            )
            cursor.fetchone()
    return time.perf_counter() - start


def _create_heavy_subject() -> Contact:
    """Create the contact and load its 100,000 rows; refresh the planner's statistics."""
    purposes = list(Purpose.objects.filter(is_active=True).order_by("pk"))
    sources = list(Source.objects.order_by("pk"))
    notice = NoticeVersion.objects.filter(published_at__isnull=False).order_by("-effective_at")
    if not purposes or not sources:
        raise RuntimeError("The bench database has no purposes or no sources.")
    notice_id = notice.values_list("pk", flat=True).first()
    now = timezone.now()
    with transaction.atomic():
        contact = Contact.objects.create(**HEAVY_CONTACT)
        tables = (
            TableRows(
                ConsentEvent,
                CONSENT_COLUMNS,
                _consent_events(contact.pk, purposes, notice_id, now),
            ),
            TableRows(Interaction, INTERACTION_COLUMNS, _interactions(contact.pk, now)),
            TableRows(ContactSource, PROVENANCE_COLUMNS, _provenance(contact.pk, sources, now)),
        )
        for table in tables:
            load_rows(table)
    _analyze(table.model for table in tables)
    return contact


def _consent_events(
    contact_id: int, purposes: list[Purpose], notice_id: int | None, now: datetime
) -> Iterator[Row]:
    """Yield ledger events over every active purpose, one a minute back from now."""
    actions = ConsentEvent.Action.values
    channels = (ConsentEvent.Channel.PREFERENCE_CENTRE.value, ConsentEvent.Channel.WEB_FORM.value)
    for n in range(HEAVY_ROWS[ConsentEvent]):
        purpose = purposes[n % len(purposes)]
        yield (
            contact_id,
            purpose.pk,
            actions[n % len(actions)],
            purpose.consent_text or f"I agree to: {purpose.name}.",
            notice_id,
            channels[n % 2],
            now - timedelta(minutes=n),
            "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
            None,
            "",
            None,
            None,
            "Bench history, dated in the past.",
            now,
            "",
        )


def _interactions(contact_id: int, now: datetime) -> Iterator[Row]:
    """Yield interactions of every kind, one an hour back from now."""
    kinds = Interaction.Kind.values
    for n in range(HEAVY_ROWS[Interaction]):
        occurred = now - timedelta(hours=n)
        kind = kinds[n % len(kinds)]
        yield (contact_id, kind, occurred, f"{kind} {n}", "Made-up note.", None, None, occurred)


def _provenance(contact_id: int, sources: list[Source], now: datetime) -> Iterator[Row]:
    """Yield provenance rows over the seeded sources, each with its own reference."""
    for n in range(HEAVY_ROWS[ContactSource]):
        collected = now - timedelta(hours=n)
        source = sources[n % len(sources)]
        yield (contact_id, source.pk, collected, f"bench/heavy/{n}", None, None, collected)


def _analyze(models: Iterable[type[Model]]) -> None:
    """Let PostgreSQL's statistics see the new rows, as autovacuum would after such a load."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def _export_in_fresh_process(contact: Contact, folder: Path) -> ChildExport:
    """Run export_in_child in a new interpreter, its exports stored under `folder`."""
    env = {**os.environ, "PRIVATE_FILES_DIR": str(folder / "private")}
    done = subprocess.run(  # noqa: S603 -- this interpreter, fixed code, the contact's id.
        [sys.executable, "-c", CHILD_CODE, str(contact.pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"The export process failed:\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return ChildExport(
        seconds=report["seconds"],
        rss_before_mb=report["rss_before_mb"],
        peak_mb=report["peak_mb"],
        queries=report["queries"],
        rows=report["rows"],
        path=Path(report["path"]),
    )


def export_in_child() -> None:
    """Export the contact whose id is argv[1]; print time, memory increase and queries as JSON."""
    from django.conf import settings

    contact = Contact.objects.get(pk=int(sys.argv[1]))
    queries = 0

    def count(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    rss_before, measure_peak = start_peak_measure()
    start = time.perf_counter()
    with connection.execute_wrapper(count):
        export = export_subject(contact=contact, requested_by=None, channel="command")
    seconds = time.perf_counter() - start
    report = {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        # The highest resident size the process reached during the export, above its size before.
        "peak_mb": measure_peak() - rss_before,
        "queries": queries,
        "rows": export.rows,
        "path": str(Path(settings.PRIVATE_FILES_DIR) / export.file.name),
    }
    print(json.dumps(report))


def _zip_rows(path: Path) -> dict[str, int]:
    """Count the rows per table in the zip's data.json."""
    with zipfile.ZipFile(path) as archive, archive.open("data.json") as raw:
        data = json.load(raw)
    return {label: len(table["rows"]) for label, table in data["tables"].items()}


def _remove_erasure_traces() -> None:
    """Delete what erasing the bench's subject kept: certificates, suppression, audit rows."""
    digest = email_hash(HEAVY_CONTACT["email"])
    certificates = ErasureCertificate.objects.filter(email_hash=digest)
    with transaction.atomic():
        for pk, contact_ref in certificates.values_list("pk", "contact_ref"):
            for model, object_id in ((ErasureCertificate, pk), (Contact, contact_ref)):
                AuditEvent.objects.filter(
                    object_type=ContentType.objects.get_for_model(model), object_id=str(object_id)
                ).delete()
        certificates.delete()
        Suppression.objects.filter(email_hash=digest).delete()


def _remove_leftovers(*, known: str) -> None:
    """Erase a heavy subject an interrupted run left behind, and the requests the bench posted."""
    leftover = Contact.objects.filter(email=HEAVY_CONTACT["email"]).first()
    if leftover is not None:
        print("Erasing the heavy subject an interrupted run left behind…", flush=True)
        erase_subject(contact=leftover, requested_by=None, channel="command")
    _remove_erasure_traces()
    # Only the bench posts requests to its database.
    SubjectRequest.objects.filter(email__in=[known, UNKNOWN_EMAIL]).delete()


def _vacuum() -> None:
    """Vacuum the tables the bench wrote to, as autovacuum would have done by the next run."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (Contact, *HEAVY_ROWS, SubjectRequest, AuditEvent)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE "{table}"')


# The public form ---------------------------------------------------------------------------------


def _time_form(folder: Path, *, known: str) -> FormResult:
    """POST the form for a known and an unknown address in turn; time each answer."""
    first_request = SubjectRequest.objects.order_by("-pk").values_list("pk", flat=True).first()
    # httpx logs every request at INFO, which the project's logging prints.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    samples: dict[str, list[float]] = {known: [], UNKNOWN_EMAIL: []}
    answers: set[tuple[int, str, int]] = set()
    try:
        with _server(folder) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
            form = client.get(FORM_URL)
            form.raise_for_status()
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
            if found is None:
                raise RuntimeError("The request form carries no CSRF token.")
            token = found.group(1)
            for n in range(FORM_WARMUPS + FORM_REQUESTS):
                # Alternate which address goes first, so neither always follows the other.
                pair = (known, UNKNOWN_EMAIL) if n % 2 == 0 else (UNKNOWN_EMAIL, known)
                for address in pair:
                    start = time.perf_counter()
                    response = client.post(
                        FORM_URL,
                        data={"csrfmiddlewaretoken": token, "kind": "access", "email": address},
                    )
                    elapsed = (time.perf_counter() - start) * 1000
                    location = response.headers.get("location", "")
                    if response.status_code != 302 or location != SENT_URL:
                        raise RuntimeError(
                            f"POST {FORM_URL} answered {response.status_code} {location!r}, "
                            f"not a redirect to {SENT_URL}."
                        )
                    answers.add((response.status_code, location, len(response.content)))
                    if n >= FORM_WARMUPS:
                        samples[address].append(elapsed)
    finally:
        SubjectRequest.objects.filter(
            pk__gt=first_request or 0, email__in=[known, UNKNOWN_EMAIL]
        ).delete()
    return FormResult(Timing(samples[known]), Timing(samples[UNKNOWN_EMAIL]), answers)


@contextmanager
def _server(folder: Path) -> Iterator[str]:
    """Run gunicorn on a free port of 127.0.0.1 against the bench database; yield its URL."""
    var_dir = folder / "server-var"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "VAR_DIR": str(var_dir),
        "DEBUG": "false",
        # Every post comes from one address, for two e-mail addresses.
        "REQUEST_RATE_PER_IP": "1000000",
        "REQUEST_RATE_PER_EMAIL": "1000000",
        # The form's view has its own per-address limit on posts, before the request limits.
        "PUBLIC_POST_RATE_PER_IP": "1000000",
    }
    # No Redis: Celery uses the file-system broker in the throwaway VAR_DIR; no SMTP either.
    for name in ("REDIS_URL", "EMAIL_HOST", "EMAIL_BACKEND"):
        env.pop(name, None)
    port = _free_port()
    log_path = folder / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--chdir", str(ROOT)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 -- this interpreter's gunicorn, fixed arguments.
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(server, base_url, log_path)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=20)


def _free_port() -> int:
    """Return a port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(server: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    """Wait until the server answers the form, for at most SERVER_START_SECONDS."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}{FORM_URL}", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {SERVER_START_SECONDS} s.")


# Output ------------------------------------------------------------------------------------------


def _print_table(runs: list[HeavyRun], form: FormResult, *, scale: int) -> None:
    tables = ", ".join(f"{m._meta.db_table} {n:,}" for m, n in HEAVY_ROWS.items())
    print(f"\nsubject_requests: {scale:,} contacts; one subject with {tables} rows + its contact")
    print(f"{'measure':<34}{'median':>10}{'max':>10}{'goal':>10}  {len(runs)} runs")
    exports = [r.export for r in runs]
    floors = [r.floor_seconds for r in runs]
    ratios = [e.seconds / r.floor_seconds for e, r in zip(exports, runs, strict=True)]
    rows = [
        ("export wall time (s)", [e.seconds for e in exports], f"< {EXPORT_GOAL_SECONDS:g}"),
        ("floor: json_agg of the rows (s)", floors, ""),
        ("export / floor", ratios, ""),
        ("export peak RSS increase (MB)", [e.peak_mb for e in exports], f"< {EXPORT_GOAL_MB:g}"),
        (
            "erasure with certificate (s)",
            [r.erase_seconds for r in runs],
            f"< {ERASE_GOAL_SECONDS:g}",
        ),
        ("rows found by the erasure's scan", [r.rows_found for r in runs], "0"),
    ]
    for label, values, goal in rows:
        print(f"{label:<34}{statistics.median(values):>10.2f}{max(values):>10.2f}{goal:>10}")
    last = runs[-1]
    print(f"zip rows: {sum(last.zip_rows.values()):,} {last.zip_rows}")
    erase_queries = len(_statements(last.erase_queries))
    print(f"certificate: removed {last.removed}; tables scanned for leftovers: {len(last.scan)}")
    print(f"export queries: {last.export.queries:,}; erasure queries: {erase_queries}")
    print(f"\npublic form, gunicorn with 2 workers: {len(form.known.samples)} posts per address")
    print(f"{'address':<34}{'median ms':>10}{'p95 ms':>10}")
    print(f"{'known':<34}{form.known.median:>10.1f}{form.known.p95:>10.1f}")
    print(f"{'unknown':<34}{form.unknown.median:>10.1f}{form.unknown.p95:>10.1f}")
    print(f"median gap, known - unknown: {form.gap:+.1f} ms (goal: under {FORM_GAP_GOAL_MS:g} ms)")
    same = "identical" if len(form.answers) == 1 else f"{len(form.answers)} different"
    print(f"answers (status, location, body length): {same}: {sorted(form.answers)}")


def _print_diagnosis(runs: list[HeavyRun]) -> None:
    queries = runs[-1].erase_queries
    total = sum(q.ms for q in queries)
    print(
        f"\nerasure: {len(_statements(queries))} queries and the commit, {total:.0f} ms in the "
        "database; the slowest:"
    )
    for query in sorted(queries, key=lambda q: q.ms, reverse=True)[:SLOWEST_SHOWN]:
        print(f"  {query.ms:8.1f} ms  {_shorten(query.sql)}")
    selects = [q for q in queries if q.sql.lstrip().upper().startswith("SELECT")]
    if selects:
        slowest = max(selects, key=lambda q: q.ms)
        explained_ms, plan = explain(slowest.sql)
        reported = f", EXPLAIN ANALYZE {explained_ms:.1f} ms" if explained_ms is not None else ""
        print(f"\nslowest SELECT of the erasure: {slowest.ms:.1f} ms{reported}")
        for line in plan[:PLAN_LINES]:
            print(f"    {line}")
        if len(plan) > PLAN_LINES:
            print(f"    … {len(plan) - PLAN_LINES} more plan lines")


def _statements(queries: list[CapturedQuery]) -> list[CapturedQuery]:
    """Leave out BEGIN and COMMIT."""
    return [q for q in queries if q.sql not in TRANSACTION_STATEMENTS]


def _shorten(sql: str, width: int = 200) -> str:
    return sql if len(sql) <= width else f"{sql[: width - 1]}…"
