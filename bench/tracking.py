"""The open pixel and the click redirect under load, against the production server.

PostgreSQL and Redis only (the production set-up). The benchmark seeds its own database,
`crm_bench_trk`: one sent campaign with two links and one message per contact (a tenth of
BENCH_SCALE, at least 1,000 and at most 50,000). It starts gunicorn (sync workers, DEBUG off,
access log off) on a free loopback port and a Celery worker on the `tracking` queue, and runs `wrk`
with 32 connections for a fixed time against:

1. the floors: an empty response of a view served by the same server (`bench/tracking_urls.py`),
   once through the full middleware stack and once through the tracking paths' smaller one;
2. the open pixel, `/t/o/<token>.gif`, each request with a random message's token;
3. the click redirect as sent mail carries it, `/t/k/<signed value>/`, likewise (and the unsigned
   `/t/c/<token>/<link>/` of mail sent before, which reads the message);
4. the web-activity beacon, `POST /t/w/beacon`, each with a random visitor's signed value (every
   contact accepted the cookie banner), from a page of the listed domain.

Then the restart check, once for opens and once for beacons: hits under load for 20 s while the
Celery worker is killed (SIGKILL, mid-flush or not) and started again, and gunicorn reloads its
workers (SIGHUP); afterwards the buffer is flushed empty and the events (or visits) are counted
against the successful responses `wrk` saw.
A flush is asked for every `TRACKING_FLUSH_SECONDS` (5 s) throughout, as beat does. The
machine's load average is recorded with every figure, since the machine may be shared.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bench.database import TRACKING_DB_NAME, ensure_database, using_database
from bench.measuring import Figure
from campaigns.models import (
    Campaign,
    Message,
    MessageEvent,
    Segment,
    TrackedLink,
    TrackingFlush,
    WebVisit,
)
from campaigns.tracking.tokens import click_token
from crm.models import Contact
from privacy.models import ConsentEvent, ConsentState, Purpose

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32
THREADS = 2
SECONDS = 10
RESTART_SECONDS = 20
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
PATHS_IN_SCRIPT = 20_000
WRK_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args) math.randomseed(seed * 7919 + os.time()) end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
"""
# The beacon: a POST of one of the listed bodies, from the listed origin, as the script sends it.
WRK_POST_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args) math.randomseed(seed * 7919 + os.time()) end
local headers = {["Content-Type"] = "text/plain", ["Origin"] = "http://127.0.0.1"}
function request()
  return wrk.format("POST", "/t/w/beacon", headers, bodies[math.random(#bodies)])
end
"""


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reported."""

    requests: int
    failed: int
    per_second: float
    p50_ms: float
    p99_ms: float
    load: float

    @property
    def answered(self) -> int:
        """Return the requests answered with a 2xx or 3xx."""
        return self.requests - self.failed


def run(*, scale: int) -> list[Figure]:
    """Seed, start the servers, measure the floor, the pixel, the click and the restart."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        print("\ntracking: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL); skipped.")
        return []
    if shutil.which("wrk") is None:
        print("\ntracking: needs wrk (apt-get install wrk); skipped.")
        return []
    messages = max(1_000, min(scale // 10, 50_000))
    with using_database(TRACKING_DB_NAME):
        ensure_database()
        tokens, links = _seed(messages)
        visitors = _visitors()
        _empty_buffer()
        with tempfile.TemporaryDirectory() as folder:
            scripts = _scripts(Path(folder), tokens, links, visitors)
            with _server() as (base, server), _worker() as worker, _flushing():
                _wrk(base, scripts["empty"], seconds=2)  # warm every worker up
                _wrk(base, scripts["open"], seconds=2)
                empty = _wrk(base, scripts["empty"])
                small = _wrk(base, scripts["empty_small"])
                opened = _wrk(base, scripts["open"])
                clicked = _wrk(base, scripts["click"])
                unsigned = _wrk(base, scripts["unsigned"])
                beacons = _wrk(base, scripts["beacon"])
                _settle()
                MessageEvent.objects.all().delete()
                WebVisit.objects.all().delete()
                TrackingFlush.objects.all().delete()
                restart = _restart_run(base, scripts["open"], server, worker)
                events = MessageEvent.objects.count()
                flushed = sum(TrackingFlush.objects.values_list("hits", flat=True))
                beacon_restart = _restart_run(base, scripts["beacon"], server, worker)
            visits = WebVisit.objects.count()
    _print_table(
        messages, empty, small, {"open pixel": opened, "click": clicked, "unsigned click": unsigned}
    )
    _print_restart(restart, events)
    print(
        f"Beacon: {beacons.per_second:,.0f} req/s ({beacons.per_second / empty.per_second:.2f}x "
        f"empty), p99 {beacons.p99_ms:.1f} ms; under restarts {beacon_restart.answered:,} "
        f"answered, {visits:,} visits written "
        f"({max(beacon_restart.answered - visits, 0)} lost)."
    )
    lost = max(restart.answered - events, 0)
    return [
        Figure("empty_requests_per_second", empty.per_second, "req/s"),
        Figure("empty_p99_ms", empty.p99_ms, "ms"),
        Figure("empty_tracking_stack_requests_per_second", small.per_second, "req/s"),
        Figure("open_to_tracking_stack_empty_ratio", opened.per_second / small.per_second, "ratio"),
        Figure(
            "click_to_tracking_stack_empty_ratio", clicked.per_second / small.per_second, "ratio"
        ),
        Figure("open_requests_per_second", opened.per_second, "req/s", floor=empty.per_second),
        Figure("open_p99_ms", opened.p99_ms, "ms", floor=empty.p99_ms),
        Figure("click_requests_per_second", clicked.per_second, "req/s", floor=empty.per_second),
        Figure("click_p99_ms", clicked.p99_ms, "ms", floor=empty.p99_ms),
        Figure("open_to_empty_ratio", opened.per_second / empty.per_second, "ratio"),
        Figure("click_to_empty_ratio", clicked.per_second / empty.per_second, "ratio"),
        Figure(
            "unsigned_click_requests_per_second",
            unsigned.per_second,
            "req/s",
            floor=empty.per_second,
        ),
        Figure("unsigned_click_to_empty_ratio", unsigned.per_second / empty.per_second, "ratio"),
        Figure("restart_answered", restart.answered, "requests"),
        Figure("restart_events", events, "events"),
        Figure("restart_hits_flushed", flushed, "hits"),
        Figure("restart_events_lost", lost, "events"),
        Figure("beacon_requests_per_second", beacons.per_second, "req/s", floor=empty.per_second),
        Figure("beacon_p99_ms", beacons.p99_ms, "ms", floor=empty.p99_ms),
        Figure("beacon_to_empty_ratio", beacons.per_second / empty.per_second, "ratio"),
        Figure("beacon_restart_answered", beacon_restart.answered, "requests"),
        Figure("beacon_restart_visits", visits, "visits"),
        Figure("beacon_restart_lost", max(beacon_restart.answered - visits, 0), "visits"),
        Figure("load_average_1m", (empty.load + opened.load + clicked.load) / 3, "load"),
    ]


# Data -------------------------------------------------------------------------------------------


def _seed(messages: int) -> tuple[list[tuple[int, str]], list[int]]:
    """Make one sent campaign with `messages` messages (reused when it is there); return tokens."""
    MessageEvent.objects.all().delete()
    TrackingFlush.objects.all().delete()
    campaign = Campaign.objects.filter(name="Tracking benchmark").first()
    if campaign is None or campaign.messages.count() != messages:
        print(f"Seeding {TRACKING_DB_NAME} with {messages:,} messages…", flush=True)
        with transaction.atomic():
            Message.objects.all().delete()
            TrackedLink.objects.all().delete()
            Campaign.objects.all().delete()
            Contact.objects.all().delete()
            purpose, _ = Purpose.objects.get_or_create(
                code="bench_letter",
                defaults={"name": "Bench letter", "legal_basis": "consent", "consent_text": "Yes"},
            )
            segment, _ = Segment.objects.get_or_create(name="Everyone")
            campaign = Campaign.objects.create(
                name="Tracking benchmark",
                purpose=purpose,
                segment=segment,
                subject="Benchmark",
                html_body="<p>Hello</p>",
                text_body="Hello",
                status=Campaign.Status.SENT,
                started_at=timezone.now(),
            )
            for n in (1, 2):
                TrackedLink.objects.create(campaign=campaign, url=f"https://www.example.org/{n}")
            contacts = Contact.objects.bulk_create(
                Contact(first_name="Bench", email=f"bench{i}@example.org") for i in range(messages)
            )
            Message.objects.bulk_create(
                (
                    Message(
                        campaign=campaign,
                        contact=contact,
                        token=secrets.token_urlsafe(32),
                        status=Message.Status.SENT,
                        sent_at=timezone.now(),
                    )
                    for contact in contacts
                ),
                batch_size=5000,
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    tokens = list(campaign.messages.values_list("pk", "token")[:PATHS_IN_SCRIPT])
    return tokens, list(campaign.links.values_list("pk", flat=True))


def _visitors() -> list[str]:
    """Give every contact e-mail tracking and the banner's web-activity grant; return visitors.

    Every message is tracked, as sending marks it for people who agreed.
    """
    from campaigns.tracking.visitors import visitor_value

    Message.objects.filter(tracked=False).update(tracked=True)
    contacts = list(Message.objects.values_list("contact_id", "campaign_id"))
    for purpose in Purpose.objects.filter(code__in=["analytics", "web_activity"]):
        if ConsentState.objects.filter(purpose=purpose).exists():
            continue
        with transaction.atomic():
            events = ConsentEvent.objects.bulk_create(
                (
                    ConsentEvent(
                        contact_id=contact_id,
                        purpose=purpose,
                        action=ConsentEvent.Action.GRANT,
                        wording="Benchmark banner",
                        channel=ConsentEvent.Channel.COOKIE_BANNER,
                        occurred_at=timezone.now(),
                    )
                    for contact_id, _ in contacts
                ),
                batch_size=5000,
            )
            ConsentState.objects.bulk_create(
                (
                    ConsentState(
                        contact_id=event.contact_id,
                        purpose=purpose,
                        status=event.action,
                        last_event=event,
                        since=event.occurred_at,
                    )
                    for event in events
                ),
                batch_size=5000,
            )
    return [
        visitor_value(contact_id, campaign_id)
        for contact_id, campaign_id in contacts[:PATHS_IN_SCRIPT]
    ]


def _empty_buffer() -> None:
    from campaigns.tracking.buffers import hit_buffer

    buffer = hit_buffer()
    buffer.redis.delete(buffer.PENDING, buffer.CLAIMED)


def _scripts(
    folder: Path, tokens: list[tuple[int, str]], links: list[int], visitors: list[str]
) -> dict[str, Path]:
    """Write a wrk script per endpoint, each picking a random path (or body) from its own list."""
    lists = {
        "empty": ["/bench/empty/"],
        "empty_small": ["/t/bench/empty/"],
        "open": [f"/t/o/{token}.gif" for _, token in tokens],
        "click": [
            f"/t/k/{click_token(token=t, message_id=m, link_id=links[i % 2], offers_web=True)}/"
            for i, (m, t) in enumerate(tokens)
        ],
        "unsigned": [f"/t/c/{t}/{links[i % len(links)]}/" for i, (_, t) in enumerate(tokens)],
    }
    scripts = {}
    for name, paths in lists.items():
        (folder / f"{name}.txt").write_text("\n".join(paths) + "\n")
        script = folder / f"{name}.lua"
        script.write_text(WRK_SCRIPT % (folder / f"{name}.txt"))
        scripts[name] = script
    bodies = [
        json.dumps(
            {"visitor": v, "kind": "page_view", "page": "http://127.0.0.1/p", "title": "Bench"}
        )
        for v in visitors
    ]
    (folder / "beacon.txt").write_text("\n".join(bodies) + "\n")
    scripts["beacon"] = folder / "beacon.lua"
    scripts["beacon"].write_text(WRK_POST_SCRIPT % (folder / "beacon.txt"))
    return scripts


# Processes --------------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.tracking_settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "WEB_TRACKING_DOMAINS": "127.0.0.1",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _server() -> Iterator[tuple[str, subprocess.Popen]]:
    """Run gunicorn, the production server, as `make run` and deployments do; yield its URL."""
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 -- this interpreter's gunicorn, fixed arguments.
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=_environment(),
    )
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(port: int) -> None:
    """Wait until the server answers the empty view (workers boot slowly on a busy machine)."""
    url = f"http://127.0.0.1:{port}/bench/empty/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 120 s.")


class Worker:
    """A Celery worker on the `tracking` queue that can be killed and started again."""

    def __init__(self):
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "tracking",
                "-P",
                "solo",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "WARNING",
            ],
            cwd=ROOT,
            env=_environment(),
        )

    def kill_and_restart(self) -> None:
        """Kill the worker without warning, then start a new one."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = self._start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


@contextmanager
def _worker() -> Iterator[Worker]:
    worker = Worker()
    try:
        yield worker
    finally:
        worker.stop()


@contextmanager
def _flushing() -> Iterator[None]:
    """Ask for a flush every TRACKING_FLUSH_SECONDS (5 s), as beat does in production."""
    from campaigns.tracking_tasks import flush_tracking_hits

    stop = threading.Event()
    every = int(os.environ.get("TRACKING_FLUSH_SECONDS", "5"))

    def tick():
        while not stop.wait(every):
            flush_tracking_hits.delay()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _settle(timeout: float = 120) -> None:
    """Wait until the worker has flushed every buffered hit."""
    from campaigns.tracking.buffers import hit_buffer

    deadline = time.monotonic() + timeout
    while hit_buffer().pending() or hit_buffer().redis.exists(hit_buffer().CLAIMED):
        if time.monotonic() > deadline:
            raise RuntimeError("The buffer was not flushed in time.")
        time.sleep(0.5)


def _restart_run(base: str, script: Path, server: subprocess.Popen, worker: Worker) -> WrkRun:
    """Opens under load while the worker is killed and restarted and gunicorn reloads."""
    result: list[WrkRun] = []
    load = threading.Thread(
        target=lambda: result.append(_wrk(base, script, seconds=RESTART_SECONDS)), daemon=True
    )
    load.start()
    time.sleep(RESTART_SECONDS * 0.35)
    worker.kill_and_restart()
    time.sleep(RESTART_SECONDS * 0.25)
    server.send_signal(signal.SIGHUP)
    load.join()
    _settle()
    return result[0]


# wrk --------------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(base: str, script: Path, *, seconds: int = SECONDS) -> WrkRun:
    """Run wrk with 32 connections for `seconds` and read its summary."""
    load = os.getloadavg()[0]
    output = subprocess.run(  # noqa: S603 -- wrk found on PATH, fixed arguments.
        [
            shutil.which("wrk") or "wrk",
            "-t",
            str(THREADS),
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Requests/sec" not in output:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    return WrkRun(
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        failed=int(m.group(1))
        if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output))
        else 0,
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_latency(output, "50%"),
        p99_ms=_latency(output, "99%"),
        load=load,
    )


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * _UNIT_MS[unit]


def _print_table(messages, empty, small, runs: dict) -> None:
    print(
        f"\nTracking under wrk ({CONNECTIONS} connections, {THREADS} threads, {SECONDS} s each; "
        f"gunicorn {WORKERS} sync workers; {messages:,} messages; PostgreSQL + Redis)"
    )
    print(
        f"{'endpoint':<18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs empty':>10}"
        f"{'vs /t/ empty':>14}{'load':>7}"
    )
    rows = {"empty": empty, "empty, /t/ stack": small, **runs}
    for name, figure in rows.items():
        print(
            f"{name:<18}{figure.per_second:>10,.0f}{figure.p50_ms:>9.1f}{figure.p99_ms:>9.1f}"
            f"{figure.per_second / empty.per_second:>10.2f}"
            f"{figure.per_second / small.per_second:>14.2f}{figure.load:>7.2f}"
        )


def _print_restart(restart, events) -> None:
    print(
        f"Restart under load: {restart.answered:,} opens answered, {events:,} events written "
        f"({max(restart.answered - events, 0)} lost; {restart.failed} failed requests), "
        f"{restart.per_second:,.0f} req/s."
    )
