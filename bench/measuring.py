"""Time admin requests, look at the queries they run, and append figures to bench/results.jsonl."""

import json
import math
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

RESULTS_PATH = Path(__file__).resolve().parent / "results.jsonl"
WARMUPS = 2
RUNS = 20
T = TypeVar("T")
TRANSACTION_STATEMENTS = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass(frozen=True)
class Figure:
    """One measured number, as one line of the results file."""

    metric: str
    value: float
    unit: str
    floor: float | None = None


@dataclass(frozen=True)
class Timing:
    """Wall-clock times of repeated requests to one URL, in milliseconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        """Return the median request time."""
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """Return the 95th percentile by nearest rank (the 19th of 20 sorted samples)."""
        ordered = sorted(self.samples)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]


@dataclass(frozen=True)
class CapturedQuery:
    """One SQL statement a request ran, with its time in milliseconds."""

    sql: str
    ms: float


def time_requests(client: Client, url: str, *, warmups: int = WARMUPS, runs: int = RUNS) -> Timing:
    """GET the URL `warmups` times untimed, then `runs` times timed; fail on any non-200 answer."""
    for _ in range(warmups):
        _get(client, url)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        _get(client, url)
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(samples)


def capture_queries(client: Client, url: str) -> tuple[str, list[CapturedQuery]]:
    """GET the URL once and return the page and the queries it ran, timed to the microsecond."""
    return capture_call(lambda: _get(client, url))


def capture_call(call: Callable[[], T]) -> tuple[T, list[CapturedQuery]]:
    """Run `call` once and return its result and the queries it ran, timed to the microsecond."""
    durations: list[float] = []

    # Django records query times rounded to the millisecond; this wrapper times them finely.
    def timed(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            durations.append((time.perf_counter() - start) * 1000)

    with CaptureQueriesContext(connection) as context, connection.execute_wrapper(timed):
        result = call()
    # BEGIN and COMMIT of atomic blocks are logged, with their time, without passing the wrapper.
    captured = context.captured_queries
    statements = [q for q in captured if q["sql"] not in TRANSACTION_STATEMENTS]
    if len(statements) != len(durations):
        raise RuntimeError("Captured queries and their timings do not match up.")
    fine = iter(durations)
    return result, [
        CapturedQuery(
            q["sql"],
            float(q["time"]) * 1000 if q["sql"] in TRANSACTION_STATEMENTS else next(fine),
        )
        for q in captured
    ]


def is_full_table_count(sql: str, table: str) -> bool:
    """Say whether the statement counts every row of the table (a COUNT with no WHERE)."""
    upper = sql.upper()
    return "COUNT(" in upper and f'FROM "{table.upper()}"' in upper and " WHERE " not in upper


def explain(sql: str) -> tuple[float | None, list[str]]:
    """Run the query under EXPLAIN ANALYZE (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite).

    Return the execution time the database reports (None on SQLite) and the plan's lines.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            lines = [row[0] for row in cursor.fetchall()]
            executed = [line for line in lines if line.startswith("Execution Time:")]
            ms = float(executed[0].split()[2]) if executed else None
            return ms, lines
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return None, [row[3] for row in cursor.fetchall()]


def start_peak_measure() -> tuple[float, Callable[[], float]]:
    """Return the resident size now (MB) and a function that returns the peak since then."""
    # On Linux the kernel's high-water mark is reset (/proc/self/clear_refs) and read back as
    # VmHWM: ru_maxrss cannot be reset and also holds the parent's peak, kept across the exec.
    # Elsewhere ru_maxrss is all there is, so the peak may include what came before.
    status = Path("/proc/self/status")
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, else KiB
        return peak / scale, lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale

    def read(field: str) -> float:
        found = re.search(rf"^{field}:\s+(\d+) kB", status.read_text(), re.MULTILINE)
        if found is None:
            raise RuntimeError(f"/proc/self/status has no {field}.")
        return int(found.group(1)) / 1024

    return read("VmRSS"), lambda: read("VmHWM")


def append_results(*, bench: str, scale: int, db: str, figures: list[Figure]) -> None:
    """Append one JSON line per figure to bench/results.jsonl."""
    with RESULTS_PATH.open("a", encoding="utf-8") as handle:
        for figure in figures:
            line = {
                "bench": bench,
                "scale": scale,
                "db": db,
                "metric": figure.metric,
                "value": round(figure.value, 2),
                "unit": figure.unit,
                "floor": figure.floor,
            }
            handle.write(json.dumps(line) + "\n")


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200.")
    return response.content.decode()
