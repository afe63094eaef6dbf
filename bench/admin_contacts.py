"""The contact list in the admin at scale: first page, e-mail prefix search, country filter.

Each scenario is timed through real requests (django.test.Client, logged in as a superuser); one
more request per scenario has its queries captured, to check that the unfiltered list reads the
planner's row estimate instead of counting every contact, and to explain its slowest query. One
last request times the first page right after the cache has expired.

The floor of each scenario is its captured request's own SQL replayed bare, in a transaction rolled
back after each replay: the ratio is what the admin's work around the queries costs (rendering,
per-row callables, the paginator, the middleware).
"""

import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client

from bench.measuring import (
    RUNS,
    TRANSACTION_STATEMENTS,
    WARMUPS,
    CapturedQuery,
    Figure,
    Timing,
    capture_queries,
    explain,
    is_full_table_count,
    time_requests,
)
from tests.two_factor import mark_verified

CHANGELIST = "/admin/crm/contact/"
SCENARIOS = {
    "first_page": CHANGELIST,
    "search_email_prefix": f"{CHANGELIST}?q=anna.jans",
    "country_filter": f"{CHANGELIST}?country=NL",
}
# Rows of the list carry one e-mail cell each.
ROW_MARKER = 'class="field-email"'
PLAN_LINES = 12


@dataclass(frozen=True)
class ScenarioResult:
    """What one scenario measured and what its captured request showed."""

    name: str
    url: str
    timing: Timing
    rows: int
    queries: list[CapturedQuery]
    floor: Timing

    @property
    def ratio(self) -> float:
        """Return the request's p95 over its replayed queries' p95."""
        return self.timing.p95 / self.floor.p95

    @property
    def full_table_counts(self) -> int:
        """Return how many queries counted the whole contact table."""
        return sum(is_full_table_count(q.sql, "crm_contact") for q in self.queries)

    @property
    def slowest(self) -> CapturedQuery:
        """Return the slowest query of the captured request."""
        return max(self.queries, key=lambda q: q.ms)


def run(*, scale: int) -> list[Figure]:
    """Measure every scenario, print a table and the diagnosis, and return the figures."""
    client = Client()
    client.force_login(superuser())
    # A superuser's admin session needs the second factor: the bench's user passes it.
    mark_verified(client, superuser())
    results = []
    for name, url in SCENARIOS.items():
        timing = time_requests(client, url)
        page, queries = capture_queries(client, url)
        rows = page.count(ROW_MARKER)
        results.append(ScenarioResult(name, url, timing, rows, queries, replay(queries)))
    # The country filter's list of countries is cached for ten minutes; the first request after
    # that recomputes it over the whole table.
    cache.clear()
    cold = time_requests(client, CHANGELIST, warmups=0, runs=1).median
    _print_table(results, scale=scale)
    print(f"first_page right after the cache expired (one request): {cold:.1f} ms")
    _print_diagnosis(results)
    figures = []
    for result in results:
        figures += [
            Figure(f"{result.name}_median", result.timing.median, "ms"),
            Figure(f"{result.name}_p95", result.timing.p95, "ms", floor=result.floor.p95),
            Figure(f"{result.name}_ratio", result.ratio, "x"),
            Figure(f"{result.name}_queries", len(result.queries), "queries"),
        ]
    figures.append(Figure("first_page_cold_cache", cold, "ms"))
    figures.append(Figure("first_page_full_table_counts", results[0].full_table_counts, "queries"))
    return figures


def replay(queries: list[CapturedQuery]) -> Timing:
    """Time the request's own statements replayed bare, each replay rolled back: the floor."""
    statements = [q.sql for q in queries if q.sql not in TRANSACTION_STATEMENTS]
    samples = []
    for _ in range(WARMUPS + RUNS):
        with transaction.atomic():
            start = time.perf_counter()
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    if cursor.description is not None:
                        cursor.fetchall()
            samples.append((time.perf_counter() - start) * 1000)
            transaction.set_rollback(True)
    return Timing(samples[WARMUPS:])


def superuser() -> AbstractBaseUser:
    """Return the bench's superuser, created on first use without a usable password."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _print_table(results: list[ScenarioResult], *, scale: int) -> None:
    print(f"\nadmin_contacts: {scale:,} contacts, {len(results[0].timing.samples)} requests each")
    print(
        f"{'scenario':<22}{'url':<38}{'rows':>5}{'queries':>9}{'median ms':>11}{'p95 ms':>9}"
        f"{'floor p95':>11}{'ratio':>7}"
    )
    for r in results:
        print(
            f"{r.name:<22}{r.url:<38}{r.rows:>5}{len(r.queries):>9}"
            f"{r.timing.median:>11.1f}{r.timing.p95:>9.1f}{r.floor.p95:>11.1f}{r.ratio:>6.1f}x"
        )


def _print_diagnosis(results: list[ScenarioResult]) -> None:
    counts = results[0].full_table_counts
    if counts == 0:
        print("\nUnfiltered list: no exact COUNT(*) over the whole of crm_contact.")
    else:
        # core.counting has an estimate only on PostgreSQL; elsewhere an exact count is expected.
        print(f"\nUnfiltered list: {counts} exact COUNT(*) over the whole of crm_contact.")
    for result in results:
        slowest = result.slowest
        explained_ms, plan = explain(slowest.sql)
        reported = f", EXPLAIN ANALYZE {explained_ms:.1f} ms" if explained_ms is not None else ""
        print(f"\n{result.name}: slowest query {slowest.ms:.1f} ms{reported}")
        print(f"  {_shorten(slowest.sql)}")
        for line in plan[:PLAN_LINES]:
            print(f"    {line}")
        if len(plan) > PLAN_LINES:
            print(f"    … {len(plan) - PLAN_LINES} more plan lines")


def _shorten(sql: str, width: int = 300) -> str:
    return sql if len(sql) <= width else f"{sql[: width - 1]}…"
