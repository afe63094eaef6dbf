"""The batch's staging table, and streaming the file into it one chunk after another.

The table is the batch's own: unlogged on PostgreSQL (filled by COPY), a plain table on SQLite
(filled by executemany). Each chunk is written in one transaction with the count of rows read, so
a worker killed half-way carries on after the last row staged. `save_progress` is the batch's sign
of life: every step that commits saves it, and a batch running without one can be resumed.

The rows are normalised on IMPORT_STAGING_PROCESSES processes forked from this one (on both
databases; one, or a system without fork, normalises here), while this one reads the file, looks
up the companies' countries, writes the chunks and keeps the table of addresses seen: a chunk is
normalised in any process, but written, and its repeated addresses given their cells, here and
in row order, so the rows and their commits are those of a single process. The forked processes
never touch the database; they end with the pool, or when this process dies.
"""

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from itertools import islice
from typing import Any

# Not the standard library's multiprocessing, which refuses children to a daemonic process, as
# Celery's prefork pool makes every worker.
import billiard
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crm.imports.files import FileLayout, Row, read_rows
from crm.imports.rows import STAGE_COLUMNS, RowPlan
from crm.models import ImportBatch

Progress = Callable[[ImportBatch], None]
Numbered = list[tuple[int, list[str]]]


STAGE_FILLFACTOR = 50


class Stage:
    """The batch's own staging table: unlogged on PostgreSQL, dropped when the batch ends."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.table = f"crm_import_stage_{int(batch.pk)}"
        self.postgresql = connection.vendor == "postgresql"

    def create(self) -> None:
        """Create the table unless a previous run of the batch left it."""
        unlogged = "UNLOGGED " if self.postgresql else ""
        # Room on every page for the new version of each row the prepare step updates.
        room = f" WITH (fillfactor = {STAGE_FILLFACTOR})" if self.postgresql else ""
        # Addresses compare byte for byte, as the contacts' do (crm migration 0026).
        bytewise = ' COLLATE "C"' if self.postgresql else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE {unlogged}TABLE IF NOT EXISTS {self.table} ("
                f"row_number INTEGER PRIMARY KEY, email VARCHAR(254){bytewise} NOT NULL, "
                "email_hash VARCHAR(64) NOT NULL, first_name VARCHAR(100) NOT NULL, "
                "last_name VARCHAR(100) NOT NULL, phone VARCHAR(32) NOT NULL, "
                "job_title VARCHAR(150) NOT NULL, country VARCHAR(2) NOT NULL, "
                "language VARCHAR(8) NOT NULL, birth_date DATE NULL, "
                "company_name VARCHAR(200) NOT NULL, company_domain VARCHAR(253) NOT NULL, "
                "reason VARCHAR(20) NOT NULL, message VARCHAR(300) NOT NULL, cells TEXT NOT NULL, "
                "company_id BIGINT NULL, contact_id BIGINT NULL, "
                f"outcome VARCHAR(8) NOT NULL DEFAULT ''){room}"
            )

    def analyze(self) -> None:
        """Give the planner the table's statistics: autovacuum may not have seen it yet."""
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.table}")

    def drop(self) -> None:
        """Drop the table."""
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    def write(self, rows: list[tuple]) -> None:
        """Append staged rows: by COPY on PostgreSQL, else in one executemany."""
        columns = ", ".join(STAGE_COLUMNS)
        with connection.cursor() as cursor:
            if self.postgresql:
                with cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({columns}) VALUES ({marks})",
                    [_sqlite_row(row) for row in rows],
                )

    def valid_hashes(self) -> Iterator[str]:
        """Yield the address hashes of the staged rows not refused, a page of rows at a time."""
        after = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT row_number, email_hash FROM {self.table} WHERE row_number > %s "
                    "AND reason = '' ORDER BY row_number LIMIT %s",
                    [after, settings.IMPORT_CHUNK_ROWS],
                )
                page = cursor.fetchall()
            if not page:
                return
            after = page[-1][0]
            yield from (email_hash for _, email_hash in page)

    def last_row(self) -> int:
        """Return the last row number staged (0 when none is)."""
        return self.scalar(f"SELECT COALESCE(MAX(row_number), 0) FROM {self.table}")

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """Run a query and return its one value."""
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchone()[0]

    def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a statement with `{stage}` standing for the table; return the rows it touched."""
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("{stage}", self.table), list(params))
            return cursor.rowcount


def _sqlite_row(row: tuple) -> tuple:
    birth_date = row[9]
    return (*row[:9], birth_date.isoformat() if birth_date else None, *row[10:])


def save_progress(batch: ImportBatch, *fields: str) -> None:
    """Save the batch's `fields` with a fresh heartbeat, the sign that a worker is on it."""
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=[*fields, "heartbeat_at"])


def stage_file(*, batch: ImportBatch, stage: Stage, progress: Progress | None = None) -> None:
    """Stream the file into the staging table, one transaction per chunk, after what is there.

    Once every row is in, the batch's step becomes `staged`.
    """
    plan = RowPlan(batch.mapping, client_country=str(batch.client.country) if batch.client else "")
    done = stage.last_row()
    if done == 0:
        # Nothing staged (first run, or PostgreSQL emptied the unlogged table after a crash).
        batch.rows_read = 0
        batch.nul_bytes_dropped = 0
    else:
        plan.remember(stage.valid_hashes())
    size = settings.IMPORT_CHUNK_ROWS
    layout = FileLayout(
        batch.file_format, batch.encoding, batch.delimiter, batch.headers, [], 0, batch.sheet
    )
    with (
        _fewer_collections(),
        batch.file.open("rb") as handle,
        closing(read_rows(handle, layout)) as read,
        closing(_staged_chunks(plan, _chunks(read, after=done, size=size))) as staged_chunks,
    ):
        # Closed before the file, also when a chunk fails: the pool stops, the reader lets go.
        for chunk, staged in staged_chunks:
            with transaction.atomic():
                stage.write(staged)
                # Counted in the transaction that writes the rows, so it always matches them.
                batch.rows_read += len(staged)
                batch.nul_bytes_dropped += sum(row.nul_bytes for row in chunk)
                batch.total_rows = max(batch.total_rows, batch.rows_read)
                save_progress(batch, "rows_read", "nul_bytes_dropped", "total_rows")
            if progress:
                progress(batch)
    batch.total_rows = batch.rows_read
    batch.step = ImportBatch.Step.STAGED
    save_progress(batch, "total_rows", "step")


# Allocations between two collections of the youngest generation (Python's default is 700).
STAGING_GC_THRESHOLD = (50_000, 20, 100)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often while the file streams through, in this and forked processes.

    Every row makes a few lists and tuples, and the default threshold ran the collector over the
    chunks in flight so often that it took half the time of reading the file. What lived before
    is frozen out of the collections (and not copied into the forked processes by them), unless
    something else in the process froze objects already: their freezing is left as it is.
    """
    previous = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(*STAGING_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        if freezing:
            gc.unfreeze()


def _chunks(rows: Iterator[Row], *, after: int, size: int) -> Iterator[list[Row]]:
    """Yield the rows after row number `after`, `size` at a time."""
    left = (row for row in rows if row.number > after)
    while chunk := list(islice(left, size)):
        yield chunk


def _staged_chunks(
    plan: RowPlan, chunks: Iterator[list[Row]]
) -> Iterator[tuple[list[Row], list[tuple]]]:
    """Yield each chunk with its staging rows, in order, normalised on IMPORT_STAGING_PROCESSES.

    A few chunks are normalised ahead of the one written, never the whole file.
    """
    processes = int(settings.IMPORT_STAGING_PROCESSES)
    if processes < 2 or "fork" not in billiard.get_all_start_methods():
        for chunk in chunks:
            yield chunk, plan.stage_chunk(_numbered(chunk))
        return
    pool = billiard.get_context("fork").Pool(processes, initializer=_adopt_plan, initargs=(plan,))
    with pool:
        pending: deque = deque()
        for chunk in chunks:
            numbered = _numbered(chunk)
            countries = plan.company_countries_of(numbered)
            normalised = pool.apply_async(_normalise_chunk, (_packed(numbered), countries))
            pending.append((chunk, numbered, normalised))
            if len(pending) > processes:
                yield _kept(plan, *pending.popleft())
        while pending:
            yield _kept(plan, *pending.popleft())


def _numbered(chunk: list[Row]) -> Numbered:
    return [(row.number, row.cells) for row in chunk]


# Between a row's cells on the way to a normalising process: no cell holds one (crm.imports.files
# drops them), and a row then travels as one string, not one object a cell to pickle and unpickle.
CELL_SEPARATOR = "\x00"


def _packed(rows: Numbered) -> tuple[list[int], list[str]]:
    """Return a chunk's row numbers and each row's cells joined in one string."""
    return [number for number, _ in rows], [CELL_SEPARATOR.join(cells) for _, cells in rows]


def _unpacked(numbers: list[int], texts: list[str]) -> Numbered:
    """Return the rows `_packed` made (a row is never blank, so never an empty string)."""
    return [
        (number, text.split(CELL_SEPARATOR) if text else [])
        for number, text in zip(numbers, texts, strict=True)
    ]


def _kept(
    plan: RowPlan, chunk: list[Row], numbered: Numbered, normalised: Any
) -> tuple[list[Row], list[tuple]]:
    """Wait for a chunk normalised by the pool; return it with its staging rows."""
    return chunk, plan.keep_repeated_cells(normalised.get(), numbered)


# The plan a normalising process was forked with: inherited, never pickled (it holds the key).
_forked_plan: list[RowPlan] = []


def _adopt_plan(plan: RowPlan) -> None:
    """Keep the plan in the forked process that is to normalise with it."""
    _forked_plan[:] = [plan]


def _normalise_chunk(
    packed: tuple[list[int], list[str]], company_countries: dict[tuple[str, str], str]
) -> list[tuple]:
    """Normalise a packed chunk in a forked process, with the countries the parent looked up."""
    return _forked_plan[0].normalise_chunk(_unpacked(*packed), company_countries)
