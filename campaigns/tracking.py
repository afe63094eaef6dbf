"""Open and click tracking: a hit buffered per request, written as events in batches.

What the privacy statement promises: an open or a click records the message, the time, the link
and the country it came from, never the IP address, and nothing at all for a person who turned
tracking off in the preference centre (or whose processing is restricted). The country is read
from a header set by a trusted proxy (only when the request comes from one of its addresses), or
looked up in an offline table of the registries' address delegations; the address itself is
dropped when the request ends.

Each request does a constant amount of work: an open only appends to a buffer shared by every web
process (a Redis list in production, a SQLite file under var/ on the embedded default); a click
also reads its message by the token's index (whose campaign, may its person be tracked) and its
link (remembered by the process), and is buffered only for a person who may be tracked. Whether
an open's token is ours and its person trackable is decided by the flush, before anything is
written: the hit of someone who turned tracking off waits seconds in the buffer and is dropped.
`flush_hits` (a Celery task on the `tracking` queue, every few seconds) claims a bounded batch,
writes it as `MessageEvent`s (by COPY on PostgreSQL) with a `TrackingFlush` row in one
transaction, counts the opens and clicks as the people's activity, then releases the batch. A
flush killed half-way finds its batch still claimed and either writes it (nothing was committed)
or skips it (the `TrackingFlush` row says it was), so no hit is lost and none is written twice.
"""

import bisect
import contextlib
import ipaddress
import json
import os
import sqlite3
import threading
import time
import uuid
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.metadata import version as package_version
from pathlib import Path
from typing import NamedTuple, Protocol

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from campaigns.models import Message, MessageEvent, TrackedLink, TrackingFlush
from core.ratelimit import client_address
from crm.activity import record_activities

OPEN, CLICK = "o", "c"
# Largest value of a PostgreSQL bigint: a longer link id in a URL can match nothing.
MAX_ID = 2**63 - 1
# Batch rows are kept this long after their flush: far longer than any claimed batch lives.
FLUSH_ROWS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class Hit:
    """One open or click as buffered: no address, no person, only the message's token."""

    kind: str
    token: str
    link_id: int | None
    country: str
    at: float

    def encode(self) -> str:
        """Return the compact line the buffer stores."""
        return json.dumps([self.kind, self.token, self.link_id, self.country, self.at])

    @classmethod
    def decode(cls, line: str | bytes) -> "Hit | None":
        """Return the hit a buffer line holds, or None for a line that is not one."""
        try:
            kind, token, link_id, country, at = json.loads(line)
            return cls(kind=kind, token=str(token), link_id=link_id, country=country, at=float(at))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Batch:
    """Hits claimed by one flush, under an id that marks them written once they are."""

    id: str
    lines: list[str] | list[bytes]


class HitBuffer(Protocol):
    """Where web processes append hits and the flush task claims them in batches."""

    def append(self, line: str) -> None: ...

    def claim(self, limit: int) -> Batch | None: ...

    def release(self, batch: Batch) -> None: ...

    def pending(self) -> int: ...


# Buffers ----------------------------------------------------------------------------------------

# Move up to ARGV[1] hits from the pending list to the claimed one, after the batch id; a batch
# claimed before and never released is handed out again as it is. Atomic: Redis runs scripts whole.
CLAIM_SCRIPT = """
if redis.call('LLEN', KEYS[2]) > 0 then return redis.call('LRANGE', KEYS[2], 0, -1) end
if redis.call('LLEN', KEYS[1]) == 0 then return {} end
redis.call('RPUSH', KEYS[2], ARGV[2])
for i = 1, tonumber(ARGV[1]) do
  if not redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') then break end
end
return redis.call('LRANGE', KEYS[2], 0, -1)
"""


class RedisHitBuffer:
    """A Redis list of pending hits and one of the claimed batch (production)."""

    PENDING = "crm:tracking:pending"
    CLAIMED = "crm:tracking:claimed"

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.claim_script = self.redis.register_script(CLAIM_SCRIPT)

    def append(self, line: str) -> None:
        """Append one hit."""
        self.redis.rpush(self.PENDING, line)

    def claim(self, limit: int) -> Batch | None:
        """Return the batch left claimed by an interrupted flush, or claim a new one."""
        lines = self.claim_script(
            keys=[self.PENDING, self.CLAIMED], args=[limit, str(uuid.uuid4())]
        )
        if not lines:
            return None
        return Batch(id=lines[0].decode(), lines=lines[1:])

    def release(self, batch: Batch) -> None:
        """Forget a batch that is written."""
        self.redis.delete(self.CLAIMED)

    def pending(self) -> int:
        """Return how many hits wait, claimed ones included."""
        claimed = self.redis.llen(self.CLAIMED)
        return self.redis.llen(self.PENDING) + max(claimed - 1, 0)


class SQLiteHitBuffer:
    """A SQLite file under var/ that every web process appends to (the embedded default).

    WAL mode lets appends go on while a flush reads; a committed append survives a crash of the
    process. The claim records the highest row id of the batch, so a re-run takes the same rows.
    """

    def __init__(self, path):
        self.path = str(path)
        self.local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS hit (id INTEGER PRIMARY KEY, line TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS claim (batch TEXT NOT NULL, upto INTEGER)")
            self.local.db = db
        return db

    def append(self, line: str) -> None:
        """Append one hit."""
        self._db().execute("INSERT INTO hit (line) VALUES (?)", (line,))

    def claim(self, limit: int) -> Batch | None:
        """Return the batch left claimed by an interrupted flush, or claim a new one."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            claimed = db.execute("SELECT batch, upto FROM claim").fetchone()
            if claimed is None:
                row = db.execute(
                    "SELECT max(id) FROM (SELECT id FROM hit ORDER BY id LIMIT ?)", (limit,)
                ).fetchone()
                if row[0] is None:
                    db.execute("COMMIT")
                    return None
                claimed = (str(uuid.uuid4()), row[0])
                db.execute("INSERT INTO claim (batch, upto) VALUES (?, ?)", claimed)
            lines = [
                line
                for (line,) in db.execute(
                    "SELECT line FROM hit WHERE id <= ? ORDER BY id", (claimed[1],)
                )
            ]
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return Batch(id=claimed[0], lines=lines)

    def release(self, batch: Batch) -> None:
        """Forget a batch that is written."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            claimed = db.execute("SELECT upto FROM claim WHERE batch = ?", (batch.id,)).fetchone()
            if claimed is not None:
                db.execute("DELETE FROM hit WHERE id <= ?", (claimed[0],))
                db.execute("DELETE FROM claim")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def pending(self) -> int:
        """Return how many hits wait, claimed ones included."""
        return self._db().execute("SELECT count(*) FROM hit").fetchone()[0]


@cache
def _buffer(kind: str, location: str) -> HitBuffer:
    if kind == "redis":
        return RedisHitBuffer(location)
    return SQLiteHitBuffer(location)


def hit_buffer() -> HitBuffer:
    """Return the configured buffer: Redis in production, a SQLite file on the embedded default."""
    if settings.TRACKING_BUFFER == "redis":
        return _buffer("redis", settings.REDIS_URL)
    return _buffer("sqlite", str(settings.TRACKING_BUFFER_PATH))


# Country ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountryTable:
    """Address ranges and their countries, sorted by first address, for a binary search."""

    starts: array | list
    ends: array | list
    # Two letters per range, in one string: a quarter of a million small strings would take MBs.
    codes: str

    def lookup(self, number: int) -> str:
        """Return the country of the address with this number, or "" when none holds it."""
        i = bisect.bisect_right(self.starts, number) - 1
        if i >= 0 and number <= self.ends[i]:
            return self.codes[2 * i : 2 * i + 2]
        return ""


@cache
def country_tables() -> tuple[CountryTable, CountryTable]:
    """Return the offline delegation tables (IPv4, IPv6), loaded once per process.

    The package's own data takes seconds and some 100 MB to load, so the first process on a
    machine writes a compact copy (a few MB) under VAR_DIR, which every later process reads in
    milliseconds.
    """
    path = Path(settings.VAR_DIR) / f"country-table-{package_version('ip-to-country')}.bin"
    try:
        return _read_tables(path)
    except (OSError, ValueError, EOFError, KeyError):
        # Missing, or damaged: rebuilt from the package below.
        pass
    tables = _package_tables()
    with contextlib.suppress(OSError):
        _write_tables(path, tables)
    return tables


def _package_tables() -> tuple[CountryTable, CountryTable]:
    from ip_to_country import IpToCountry

    source = IpToCountry()
    v4 = sorted((int(s), int(e), c) for s, e, c in source.ipv4_ranges if _is_code(c))
    v6 = sorted(
        (int(n.network_address), int(n.broadcast_address), c)
        for n, c in source.ipv6_ranges
        if _is_code(c)
    )
    return (
        CountryTable([r[0] for r in v4], [r[1] for r in v4], "".join(r[2] for r in v4)),
        CountryTable([r[0] for r in v6], [r[1] for r in v6], "".join(r[2] for r in v6)),
    )


def _is_code(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()


def _write_tables(path: Path, tables: tuple[CountryTable, CountryTable]) -> None:
    """Write the tables as a header line and raw arrays; atomically, for concurrent processes."""
    v4, v6 = tables
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as out:
        out.write(json.dumps({"v4": len(v4.starts), "v6": len(v6.starts)}).encode() + b"\n")
        array("I", v4.starts).tofile(out)
        array("I", v4.ends).tofile(out)
        out.write(v4.codes.encode("ascii"))
        for numbers in (v6.starts, v6.ends):
            array("Q", [n >> 64 for n in numbers]).tofile(out)
            array("Q", [n & (2**64 - 1) for n in numbers]).tofile(out)
        out.write(v6.codes.encode("ascii"))
    os.replace(temporary, path)


def _read_tables(path: Path) -> tuple[CountryTable, CountryTable]:
    with path.open("rb") as source:
        sizes = json.loads(source.readline())

        def numbers(kind: str, count: int) -> array:
            values = array(kind)
            values.fromfile(source, count)
            return values

        def codes(count: int) -> str:
            text = source.read(2 * count).decode("ascii")
            if len(text) != 2 * count:
                raise ValueError("The country table file is cut short.")
            return text

        v4 = CountryTable(numbers("I", sizes["v4"]), numbers("I", sizes["v4"]), codes(sizes["v4"]))
        wide = []
        for _ in range(2):
            high, low = numbers("Q", sizes["v6"]), numbers("Q", sizes["v6"])
            wide.append([(h << 64) | lo for h, lo in zip(high, low, strict=True)])
        v6 = CountryTable(wide[0], wide[1], codes(sizes["v6"]))
    return v4, v6


def country_of_address(address: str) -> str:
    """Return the ISO code of the country an address is delegated to; "" if private or unknown."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if not ip.is_global:
        return ""
    v4, v6 = country_tables()
    return (v4 if ip.version == 4 else v6).lookup(int(ip))


@cache
def _header_proxies(configured: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in configured)


def _from_trusted_proxy(request: HttpRequest) -> bool:
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    proxies = _header_proxies(tuple(settings.TRACKING_COUNTRY_HEADER_PROXIES))
    return any(peer in network for network in proxies)


def request_country(request: HttpRequest) -> str:
    """Return the visitor's country: the trusted proxy's header, else the offline table, else ""."""
    header = settings.TRACKING_COUNTRY_HEADER
    if header and _from_trusted_proxy(request):
        value = request.headers.get(header, "").strip().upper()
        # XX and T1 are what proxies send for unknown and Tor: no country.
        if len(value) == 2 and value.isalpha() and value not in {"XX", "T1"}:
            return value
        return ""
    if settings.TRACKING_COUNTRY_TABLE:
        return country_of_address(client_address(request))
    return ""


# Requests ---------------------------------------------------------------------------------------

TRACKABLE = {"contact__tracking_allowed": True, "contact__is_restricted": False}
# Link id -> (campaign id, address, until): links do not change once a campaign is sent, and a
# process keeps those of the campaigns being read for a minute, so most clicks cost one query.
_LINKS: dict[int, tuple[int, str, float]] = {}
LINKS_KEPT = 4096
LINK_SECONDS = 60


def record_open(request: HttpRequest, *, token: str) -> None:
    """Buffer an open of the message with this token, with the country and the time only.

    No query: whether the token is ours and whether its person may be tracked is decided by the
    flush before anything is written, so an open of someone who turned tracking off is dropped
    there and never reaches the database.
    """
    hit = Hit(
        kind=OPEN, token=token, link_id=None, country=request_country(request), at=time.time()
    )
    hit_buffer().append(hit.encode())


def _link(link_id: int) -> tuple[int, str] | None:
    """Return the campaign and address of a tracked link, remembered by this process."""
    now = time.monotonic()
    found = _LINKS.get(link_id)
    if found is None or found[2] < now:
        row = TrackedLink.objects.filter(pk=link_id).values_list("campaign_id", "url").first()
        if row is None:
            return None
        if len(_LINKS) >= LINKS_KEPT:
            _LINKS.clear()
        found = _LINKS[link_id] = (*row, now + LINK_SECONDS)
    return found[0], found[1]


def click_target(request: HttpRequest, *, token: str, link_id: int) -> str | None:
    """Return where a click goes, buffering it if its person may be tracked; None: no such link.

    Only a link of the campaign the message belongs to is ever returned: the link's campaign must
    be the token's, so nothing in the URL can point the redirect elsewhere.
    """
    if link_id > MAX_ID:
        return None
    rows = list(
        Message.objects.filter(token=token)
        .values_list("campaign_id", "contact__tracking_allowed", "contact__is_restricted")
        .order_by()[:1]
    )
    if not rows:
        return None
    campaign_id, allowed, restricted = rows[0]
    link = _link(link_id)
    if link is None or link[0] != campaign_id:
        return None
    if allowed and not restricted:
        hit = Hit(
            kind=CLICK,
            token=token,
            link_id=link_id,
            country=request_country(request),
            at=time.time(),
        )
        hit_buffer().append(hit.encode())
    return link[1]


# Flushing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlushResult:
    """What one flush did: batches and hits taken, events written, batches found written."""

    batches: int = 0
    hits: int = 0
    events: int = 0
    skipped_batches: int = 0


def flush_hits(*, batch_size: int | None = None, max_batches: int = 50) -> FlushResult:
    """Write buffered hits as events, a claimed batch per transaction, until the buffer is empty."""
    buffer = hit_buffer()
    size = batch_size or settings.TRACKING_FLUSH_BATCH
    batches = hits = events = skipped = 0
    for _ in range(max_batches):
        batch = buffer.claim(size)
        if batch is None:
            break
        written = write_batch(batch)
        buffer.release(batch)
        batches += 1
        hits += len(batch.lines)
        if written is None:
            skipped += 1
        else:
            events += written
    TrackingFlush.objects.filter(flushed_at__lt=timezone.now() - FLUSH_ROWS_KEPT).delete()
    return FlushResult(batches=batches, hits=hits, events=events, skipped_batches=skipped)


def write_batch(batch: Batch) -> int | None:
    """Write one batch's hits as events and activity; return how many, None if written before."""
    hits = [hit for hit in map(Hit.decode, batch.lines) if hit is not None]
    rows = _event_rows(hits)
    try:
        with transaction.atomic():
            if TrackingFlush.objects.filter(batch=batch.id).exists():
                return None
            TrackingFlush.objects.create(batch=batch.id, hits=len(batch.lines), events=len(rows))
            insert_events([row for row, _ in rows])
            # To the minute: the inactivity rules count in years, and it keeps the statements few.
            latest: dict[int, datetime] = {}
            for row, contact_id in rows:
                minute = row.occurred_at.replace(second=0, microsecond=0)
                if contact_id not in latest or latest[contact_id] < minute:
                    latest[contact_id] = minute
            record_activities(moments=latest)
    except IntegrityError:
        # Another flush wrote the same claimed batch at the same moment.
        return None
    return len(rows)


class EventRow(NamedTuple):
    """One event to insert, its columns in table order."""

    message_id: int
    campaign_id: int
    kind: str
    link_id: int | None
    country: str
    detail: str
    occurred_at: datetime


def insert_events(rows: list[EventRow]) -> None:
    """Insert event rows in the current transaction: COPY on PostgreSQL, bulk_create elsewhere.

    COPY takes a fifth of the time of Django's multi-row INSERT for a batch of thousands, which
    matters on a machine whose web processes share the cores with the flush.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = MessageEvent._meta.db_table
        columns = ", ".join(f'"{name}"' for name in EventRow._fields)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    MessageEvent.objects.bulk_create(
        (MessageEvent(**row._asdict()) for row in rows), batch_size=500
    )


def _event_rows(hits: Iterable[Hit]) -> list[tuple[EventRow, int]]:
    """Turn hits into event rows with their person; drop unknown tokens and untracked people."""
    hits = list(hits)
    messages = {
        token: (pk, campaign_id, contact_id)
        for token, pk, campaign_id, contact_id in Message.objects.filter(
            token__in={hit.token for hit in hits}, **TRACKABLE
        ).values_list("token", "pk", "campaign_id", "contact_id")
    }
    link_ids = {hit.link_id for hit in hits if hit.kind == CLICK and isinstance(hit.link_id, int)}
    links = dict(
        TrackedLink.objects.filter(pk__in=link_ids).values_list("pk", "campaign_id")
        if link_ids
        else []
    )
    rows = []
    for hit in hits:
        known = messages.get(hit.token)
        if known is None:
            continue
        message_id, campaign_id, contact_id = known
        if hit.kind == CLICK:
            if links.get(hit.link_id) != campaign_id:
                continue
            kind, link_id = MessageEvent.Kind.CLICKED.value, hit.link_id
        elif hit.kind == OPEN:
            kind, link_id = MessageEvent.Kind.OPENED.value, None
        else:
            continue
        country = hit.country if isinstance(hit.country, str) and len(hit.country) == 2 else ""
        row = EventRow(
            message_id=message_id,
            campaign_id=campaign_id,
            kind=kind,
            link_id=link_id,
            country=country,
            detail="",
            occurred_at=datetime.fromtimestamp(hit.at, tz=UTC),
        )
        rows.append((row, contact_id))
    return rows
