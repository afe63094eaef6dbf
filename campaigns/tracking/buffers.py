"""Where hits wait between a request and the flush: the buffered hit, its batch and buffers."""

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings

OPEN, CLICK, VISIT = "o", "c", "v"


@dataclass(frozen=True)
class Hit:
    """One open or click as buffered: no address, no person, only the message's token.

    `agent` is the user agent reduced to one letter (`campaigns.tracking.machines.agent_class`).
    """

    kind: str
    token: str
    link_id: int | None
    country: str
    at: float
    agent: str = ""

    def encode(self) -> str:
        """Return the compact line the buffer stores."""
        return json.dumps([self.kind, self.token, self.link_id, self.country, self.at, self.agent])

    @classmethod
    def decode(cls, line: str | bytes) -> "Hit | None":
        """Return the hit a buffer line holds, or None for a line that is not one."""
        try:
            kind, token, link_id, country, at, *rest = json.loads(line)
            if kind not in (OPEN, CLICK) or len(rest) > 1:
                return None
            agent = str(rest[0]) if rest else ""
            return cls(
                kind=kind,
                token=str(token),
                link_id=link_id,
                country=country,
                at=float(at),
                agent=agent,
            )
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Visit:
    """One page view or download of a visitor who accepted the cookie banner, as buffered."""

    contact_id: int
    campaign_id: int | None
    kind: str
    host: str
    path: str
    title: str
    referrer_domain: str
    at: float

    def encode(self) -> str:
        """Return the compact line the buffer stores."""
        return json.dumps(
            [
                VISIT,
                self.contact_id,
                self.campaign_id,
                self.kind,
                self.host,
                self.path,
                self.title,
                self.referrer_domain,
                self.at,
            ]
        )

    @classmethod
    def decode(cls, line: str | bytes) -> "Visit | None":
        """Return the visit a buffer line holds, or None for a line that is not one."""
        try:
            kind, contact_id, campaign_id, what, host, path, title, referrer, at = json.loads(line)
            if kind != VISIT or not isinstance(contact_id, int):
                return None
            return cls(
                contact_id=contact_id,
                campaign_id=campaign_id if isinstance(campaign_id, int) else None,
                kind=str(what),
                host=str(host)[:253],
                path=str(path)[:500],
                title=str(title)[:200],
                referrer_domain=str(referrer)[:253],
                at=float(at),
            )
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
