"""Campaign audiences at scale, and sending 100,000 messages to an SMTP sink with two workers.

Both benchmarks use their own PostgreSQL database, `crm_bench_send`, seeded once per scale: the
shared seed (N contacts, their companies, provenance and interactions; 1 in 500 restricted, 1 in
50 bounced) plus what audiences depend on, by COPY: newsletter consent for 70% of the contacts,
of which 5% later withdrew and 3% refused (the ledger events and the derived states), global
suppressions for 3% of the contacts and a client's suppressions for 1% more, and 50,000 hashes of
addresses no contact has (people erased long ago). On SQLite the bench database is used as it is.

`campaign_audience`: the audience page's breakdown (segment, each exclusion, audience) and the
audience count, for a segment of everyone and for one of customers in two countries; the live
segment count of the admin (exact up to its limit, then the planner's estimate); and the INSERT …
SELECT that creates the messages when sending starts (rolled back). The floor is a plain
`SELECT count(*)` of the contacts.

`campaign_sending`: a campaign to exactly 100,000 people (a tag put on the first 100,000 of the
audience) is started and sent by two real Celery worker processes (`-P solo`, queue `sending`;
`BENCH_WORKERS=1` or `4` for another count) to an aiosmtpd sink in a third process on loopback,
with no rate limit. The figure is messages accepted by the sink per second, from the first batch
queued to the campaign marked sent. The
floor is one process handing 10,000 prepared messages to the same sink over one connection with
smtplib, no database.
"""

import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from bench.database import SEND_DB_NAME, ensure_database, recreate_database, using_database
from bench.measuring import Figure
from bench.seeding import NOW, SEED, TableRows, bulk_load, seed, vacuum_analyze
from bench.smtp_sink import run_sink
from campaigns.audience import audience_breakdown, campaign_audience
from campaigns.models import Campaign, Message, Segment
from campaigns.segments import SegmentCriteria, count_matching
from campaigns.sending import starting
from core.hashing import stored_email_hash
from crm.models import Client, Contact, Suppression, Tag
from privacy.models import ConsentEvent, ConsentState, Purpose

ROOT = Path(__file__).resolve().parent.parent
SEND_MESSAGES = 100_000
FLOOR_MESSAGES = 10_000
SINK_PORT = int(os.environ.get("BENCH_SMTP_PORT", "18821"))
# BENCH_WORKERS: how many sending worker processes (1, 2 or 4 to see how sending scales).
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
RUNS = 5
CONSENT_SHARE, WITHDRAWN_SHARE, REFUSED_SHARE = 0.70, 0.05, 0.03
GLOBAL_SUPPRESSED_SHARE, CLIENT_SUPPRESSED_SHARE = 0.03, 0.01
UNKNOWN_SUPPRESSIONS = 50_000
WORKER_CODE = (
    "import sys, django; django.setup(); from bench.campaigns_send import worker_in_child; "
    "worker_in_child(sys.argv[1], sys.argv[2])"
)
EVENT_COLUMNS = (
    "id",
    "contact_id",
    "purpose_id",
    "action",
    "wording",
    "channel",
    "occurred_at",
    "user_agent",
    "evidence",
    "recorded_at",
    "backdate_reason",
    "language",
)
STATE_COLUMNS = ("id", "contact_id", "purpose_id", "status", "last_event_id", "since")
SUPPRESSION_COLUMNS = ("id", "email_hash", "client_id", "reason", "created_at", "lift_reason")


def run_audience(*, scale: int) -> list[Figure]:
    """Measure audience breakdowns, counts, the live segment count and the message INSERT."""
    with _send_database(scale):
        return _measure_audience(scale)


def run_sending(*, scale: int) -> list[Figure]:
    """Send 100,000 messages with two worker processes to a local SMTP sink; return figures."""
    with _send_database(scale):
        return _measure_sending(scale)


# The database -----------------------------------------------------------------------------------


@contextmanager
def _send_database(scale: int) -> Iterator[None]:
    """Use `crm_bench_send` (PostgreSQL) seeded at the scale; on SQLite the bench database."""
    with using_database(SEND_DB_NAME) if _postgresql() else nullcontext():
        created = ensure_database()
        if created or Contact.objects.count() != scale:
            print(f"Seeding the campaign bench database with {scale:,} contacts…", flush=True)
            start = time.perf_counter()
            if not created:
                recreate_database()
            seed(scale=scale)
            seed_audience_rows(scale=scale)
            print(f"Seeded in {time.perf_counter() - start:.1f} s.", flush=True)
        yield


def _postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def seed_audience_rows(*, scale: int) -> None:
    """Add consent decisions and suppressions in realistic shares, by COPY on PostgreSQL."""
    rng = random.Random(SEED + 7)
    newsletter = Purpose.objects.get(code="newsletter")
    client = Client.objects.get(name="Bench client North")
    decided = [pk for pk in range(1, scale + 1) if rng.random() < CONSENT_SHARE]
    suppressed = [pk for pk in range(1, scale + 1) if rng.random() < GLOBAL_SUPPRESSED_SHARE]
    by_client = [pk for pk in range(1, scale + 1) if rng.random() < CLIENT_SUPPRESSED_SHARE]
    emails = dict(Contact.objects.filter(pk__in=suppressed + by_client).values_list("pk", "email"))
    with transaction.atomic():
        tables = (
            TableRows(ConsentEvent, EVENT_COLUMNS, _events(decided, newsletter)),
            TableRows(ConsentState, STATE_COLUMNS, _states(decided, newsletter)),
            TableRows(
                Suppression,
                SUPPRESSION_COLUMNS,
                _suppressions(suppressed, by_client, emails, client),
            ),
        )
        bulk_load(tables)
    vacuum_analyze(tables)


def _action(rng: random.Random) -> str:
    roll = rng.random()
    if roll < WITHDRAWN_SHARE:
        return ConsentEvent.Action.WITHDRAW
    if roll < WITHDRAWN_SHARE + REFUSED_SHARE:
        return ConsentEvent.Action.REFUSE
    return ConsentEvent.Action.GRANT


def _decisions(contacts: list[int]) -> Iterator[tuple[int, int, str]]:
    """Yield (row id, contact id, action): the same sequence for the events and the states."""
    actions = random.Random(SEED + 11)
    for pk, contact_id in enumerate(contacts, start=1):
        yield pk, contact_id, _action(actions)


def _events(contacts: list[int], purpose: Purpose) -> Iterator[tuple]:
    for pk, contact_id, action in _decisions(contacts):
        yield (
            pk,
            contact_id,
            purpose.pk,
            action,
            purpose.consent_text,
            ConsentEvent.Channel.DOUBLE_OPT_IN,
            NOW - timedelta(days=pk % 900),
            "Bench/1.0",
            "",
            NOW - timedelta(days=pk % 900),
            "",
            "en",
        )


def _states(contacts: list[int], purpose: Purpose) -> Iterator[tuple]:
    for pk, contact_id, action in _decisions(contacts):
        yield (pk, contact_id, purpose.pk, action, pk, NOW - timedelta(days=pk % 900))


def _suppressions(
    everywhere: list[int],
    by_client: list[int],
    emails: dict[int, str],
    client: Client,
) -> Iterator[tuple]:
    pk = 0
    for contact_id in everywhere:
        pk += 1
        yield (pk, stored_email_hash(emails[contact_id]), None, "unsubscribe", NOW, "")
    for contact_id in by_client:
        pk += 1
        yield (pk, stored_email_hash(emails[contact_id]), client.pk, "complaint", NOW, "")
    for index in range(UNKNOWN_SUPPRESSIONS):
        pk += 1
        gone = stored_email_hash(f"erased{index}@example.net")
        yield (pk, gone, None, "erasure", NOW - timedelta(days=index % 700), "")


# Audience ---------------------------------------------------------------------------------------


def _campaign(name: str, segment: Segment, *, client: Client | None = None) -> Campaign:
    campaign, _ = Campaign.objects.get_or_create(
        name=name,
        defaults={
            "purpose": Purpose.objects.get(code="newsletter"),
            "segment": segment,
            "client": client,
            "subject": "Bench {{ first_name }}",
            "html_body": '<p>Hi {{ first_name }}</p><a href="https://www.example.org/a">a</a>'
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
            "text_body": "Hi {{ first_name }}\n{{ unsubscribe_url }}",
        },
    )
    return campaign


def _timed(call, runs: int = RUNS) -> tuple[float, object]:
    """Return the median seconds of `runs` calls and the last result."""
    samples, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def _measure_audience(scale: int) -> list[Figure]:
    everyone, _ = Segment.objects.get_or_create(name="Bench: everyone")
    customers, _ = Segment.objects.get_or_create(
        name="Bench: customers NL DE",
        defaults={"countries": ["NL", "DE"], "relationships": ["customer"]},
    )
    client = Client.objects.get(name="Bench client North")
    cases = {
        "everyone": _campaign("Bench audience: everyone", everyone, client=client),
        "customers_nl_de": _campaign("Bench audience: customers NL DE", customers),
    }
    with connection.cursor() as cursor:
        floor, _ = _timed(lambda: cursor.execute("SELECT count(*) FROM crm_contact").fetchone())
    figures = []
    print(f"\ncampaign_audience: {scale:,} contacts, median of {RUNS} runs")
    print(f"floor, counting every contact in plain SQL: {floor * 1000:.0f} ms")
    for name, campaign in cases.items():
        breakdown_s, breakdown = _timed(lambda c=campaign: audience_breakdown(c))
        count_s, audience = _timed(lambda c=campaign: campaign_audience(c).count())
        insert_s, created = _timed_inserts(campaign)
        print(
            f"{name}: segment {breakdown.segment:,}, audience {audience:,}; breakdown "
            f"{breakdown_s * 1000:.0f} ms, count {count_s * 1000:.0f} ms, "
            f"INSERT of {created:,} messages {insert_s * 1000:.0f} ms"
        )
        if _postgresql():
            select_s, same_s, bare_s = _insert_floors(campaign)
            print(
                f"    floors: the audience's SELECT alone {select_s * 1000:.0f} ms; inserting "
                f"its ids with tokens into the message table {same_s * 1000:.0f} ms, into a "
                f"bare table {bare_s * 1000:.0f} ms"
            )
            figures += [
                Figure(f"{name}_insert_floor_select", select_s * 1000, "ms"),
                Figure(f"{name}_insert_floor_same_schema", same_s * 1000, "ms"),
                Figure(f"{name}_insert_floor_bare_table", bare_s * 1000, "ms"),
            ]
        for code, label, excluded in breakdown.rows():
            print(f"    excluded {code}: {excluded:,}  ({label})")
        figures += [
            Figure(f"{name}_breakdown", breakdown_s * 1000, "ms", floor * 1000),
            Figure(f"{name}_count", count_s * 1000, "ms", floor * 1000),
            Figure(f"{name}_insert_messages", insert_s * 1000, "ms"),
            Figure(f"{name}_audience", audience, "contacts"),
        ]
    for label, criteria in (
        ("live_count_everyone", SegmentCriteria()),
        ("live_count_nl", SegmentCriteria(countries=("NL",))),
        (
            "live_count_customers_nl_de",
            SegmentCriteria(countries=("NL", "DE"), relationships=("customer",)),
        ),
    ):
        seconds, result = _timed(lambda c=criteria: count_matching(c))
        kind = "exact" if result.exact else "estimate"
        print(f"{label}: {result.value:,} ({kind}) in {seconds * 1000:.0f} ms")
        figures.append(Figure(label, seconds * 1000, "ms"))
    return figures


def _insert_floors(campaign: Campaign) -> tuple[float, float, float]:
    """Time the parts of creating the messages, rolled back: the audience's SELECT alone, then
    its ids (read once into a table) inserted with the same token expression into the message
    table (this schema) and into a table without index or key (the minimal schema)."""
    recipients = campaign_audience(campaign).values_list("pk", flat=True)
    audience_sql, params = recipients.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM campaigns_message")
    with transaction.atomic(), connection.cursor() as cursor:
        message_id, token = starting.message_token_sql(cursor)
        cursor.execute("CREATE TABLE bench_audience (id bigint)")
        start = time.perf_counter()
        cursor.execute(f"INSERT INTO bench_audience {audience_sql}", params)
        select_s = time.perf_counter() - start
        rows = (
            f"SELECT audience.id, %s, audience.contact_id, {token}, '', '', 'queued', 0, '', now() "
            f"FROM (SELECT {message_id} AS id, id AS contact_id FROM bench_audience) AS audience"
        )
        start = time.perf_counter()
        cursor.execute(
            "INSERT INTO campaigns_message (id, campaign_id, contact_id, token, language, "
            f"variant, status, attempts, error, created_at) {rows}",
            [campaign.pk],
        )
        same_s = time.perf_counter() - start
        cursor.execute(
            "CREATE TABLE bench_bare (id bigint, campaign_id bigint, contact_id bigint, "
            "token varchar(43), language varchar(8), variant varchar(1), status varchar(10), "
            "attempts smallint, error varchar(200), created_at timestamptz)"
        )
        start = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_bare (id, campaign_id, contact_id, token, language, variant, "
            f"status, attempts, error, created_at) {rows}",
            [campaign.pk],
        )
        bare_s = time.perf_counter() - start
        transaction.set_rollback(True)
    return select_s, same_s, bare_s


def _timed_inserts(campaign: Campaign, runs: int = 3) -> tuple[float, int]:
    """Return the median seconds of creating the campaign's messages (rolled back) and how many.

    The message table is vacuumed before each run (not timed): a run rolled back leaves its rows
    dead in the table and its indexes, which no real campaign start finds there.
    """
    samples, created = [], 0
    for _ in range(runs):
        if _postgresql():
            with connection.cursor() as cursor:
                cursor.execute("VACUUM campaigns_message")
        start = time.perf_counter()
        created = _insert_rolled_back(campaign)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), created


def _insert_rolled_back(campaign: Campaign) -> int:
    """Create the campaign's messages as sending would, then roll back; return how many."""
    with transaction.atomic():
        created = starting.create_messages(campaign)
        transaction.set_rollback(True)
    return created


# Sending ----------------------------------------------------------------------------------------


def _measure_sending(scale: int) -> list[Figure]:
    campaign = _sending_campaign(scale)
    from config.celery import app

    app.control.purge()
    spawn = multiprocessing.get_context("spawn")
    sink_count = spawn.Value("l", 0)
    sink = spawn.Process(target=run_sink, args=(SINK_PORT, sink_count), daemon=True)
    sink.start()
    _wait_for_port(SINK_PORT)
    floor = _smtplib_floor(sink_count)
    workers = [_start_worker(index) for index in range(1, WORKERS + 1)]
    try:
        _wait_for_workers(app, WORKERS)
        before = sink_count.value
        start = time.perf_counter()
        created = starting.start_sending(campaign=campaign)
        queued = time.perf_counter()
        while Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk) != "sent":
            if any(worker.poll() is not None for worker in workers):
                raise RuntimeError("A sending worker stopped during the benchmark.")
            time.sleep(0.5)
        done = time.perf_counter()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
        sink.terminate()
    accepted = sink_count.value - before
    sent = Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count()
    rate = accepted / (done - queued)
    load = os.getloadavg()
    print(f"\ncampaign_sending: {created:,} messages, {WORKERS} workers, no rate limit")
    print(f"messages created (INSERT … SELECT) in {queued - start:.1f} s")
    print(f"sent {sent:,}, sink accepted {accepted:,} in {done - queued:.1f} s: {rate:.0f} msg/s")
    print(f"floor (smtplib, one connection, no database): {floor:.0f} msg/s")
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if created != min(SEND_MESSAGES, scale // 2) or accepted != created or sent != created:
        raise RuntimeError(f"Expected {created} messages, the sink accepted {accepted}.")
    return [
        Figure("messages_per_second", rate, "msg/s", round(floor, 1)),
        Figure("send_seconds", done - queued, "s"),
        Figure("create_messages_seconds", queued - start, "s"),
        Figure("load_average_1min", load[0], "load"),
    ]


def _sending_campaign(scale: int) -> Campaign:
    """Return a new draft campaign to SEND_MESSAGES people (fewer below 200,000 contacts)."""
    wanted = min(SEND_MESSAGES, scale // 2)
    tag, _ = Tag.objects.get_or_create(name="Bench: send")
    segment, _ = Segment.objects.get_or_create(name="Bench: send")
    segment.tags.set([tag])
    everyone, _ = Segment.objects.get_or_create(name="Bench: everyone")
    probe = _campaign("Bench send: audience", everyone)
    if tag.contacts.count() != wanted:
        tagged = Contact.tags.through
        tagged.objects.filter(tag=tag).delete()
        ids = campaign_audience(probe).order_by("pk").values_list("pk", flat=True)[:wanted]
        tagged.objects.bulk_create(
            [tagged(tag_id=tag.pk, contact_id=pk) for pk in ids], batch_size=10_000
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return _campaign(f"Bench send {stamp}", segment)


def _wait_for_port(port: int) -> None:
    import socket

    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"The SMTP sink did not listen on port {port}.")


def _smtplib_floor(counter) -> float:
    """Hand FLOOR_MESSAGES prepared messages to the sink over one connection; return msg/s."""
    import smtplib

    message = EmailMessage()
    message["From"] = "bench@example.org"
    message["To"] = "reader@example.org"
    message["Subject"] = "Bench"
    message.set_content("Hi\n" * 20)
    message.add_alternative("<p>Hi</p>" * 20, subtype="html")
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", SINK_PORT) as smtp:
        for _ in range(FLOOR_MESSAGES):
            smtp.send_message(message)
    return FLOOR_MESSAGES / (time.perf_counter() - start)


def _start_worker(index: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(SINK_PORT),
        "EMAIL_USE_TLS": "false",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "SENDING_RATE_PER_WORKER": "0",
        "SENDING_BATCH_SIZE": "500",
        "SENDING_PARALLEL_BATCHES": str(WORKERS),
        "LOG_LEVEL": "WARNING",
    }
    database = SEND_DB_NAME if _postgresql() else ""
    return subprocess.Popen(  # noqa: S603 -- this interpreter, fixed code, a bench name.
        [sys.executable, "-c", WORKER_CODE, database, f"bench-send-{index}"],
        cwd=ROOT,
        env=env,
    )


def worker_in_child(database: str, name: str) -> None:
    """Run one solo sending worker against the bench database (in a child process)."""
    from config.celery import app

    argv = [
        "worker",
        "-Q",
        "sending",
        "-P",
        "solo",
        "-n",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
    ]
    if database:
        with using_database(database):
            app.worker_main(argv)
    else:
        app.worker_main(argv)


def _wait_for_workers(app, count: int) -> None:
    for _ in range(120):
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            return
    raise RuntimeError("The sending workers did not answer within two minutes.")
