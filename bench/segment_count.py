"""A nested segment's count on the shared bench database, with the same count in plain SQL.

The segment is two OR groups and a plain condition joined by AND, over the person's language and
relationship, the company's country and industry, provenance and recent activity: what
`campaigns.segment_rules` builds for the admin's live count and for the audience. The floor is the
same question written by hand in SQL, run in the same process on the same database. Each is run
once to warm the cache and then `RUNS` times; the median is reported.
"""

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection

from bench.measuring import Figure
from bench.seeding import NOW
from campaigns.segment_rules import check_rules
from campaigns.segments import SegmentCriteria, matching_contacts

RUNS = 5
ACTIVE_DAYS = 180
RULES = {
    "match": "all",
    "rules": [
        {
            "match": "any",
            "rules": [
                {"field": "language", "op": "in", "value": ["nl", "ro"]},
                {"field": "company.country", "op": "in", "value": ["DE"]},
            ],
        },
        {
            "match": "any",
            "rules": [
                {"field": "company.industry", "op": "equals", "value": "Software"},
                {"field": "source.kind", "op": "any_of", "value": ["web_form", "event"]},
                {"field": "last_activity_at", "op": "within_days", "value": ACTIVE_DAYS},
            ],
        },
        {"field": "relationship", "op": "not_in", "value": ["partner_employee"]},
    ],
}
FLOOR_SQL = """
SELECT COUNT(*) FROM crm_contact c LEFT JOIN crm_company co ON co.id = c.company_id
WHERE (c.language IN ('nl', 'ro') OR co.country = 'DE')
  AND (co.industry = 'Software'
       OR EXISTS (SELECT 1 FROM crm_contactsource cs JOIN crm_source s ON s.id = cs.source_id
                  WHERE cs.contact_id = c.id AND s.kind IN ('web_form', 'event'))
       OR c.last_activity_at >= %s)
  AND c.relationship <> 'partner_employee'
"""


def run(*, scale: int) -> list[Figure]:
    """Time the segment's count through the ORM and the floor's in SQL; print and return them."""
    check_rules(RULES)
    criteria = SegmentCriteria(rules=RULES)
    since = NOW - timedelta(days=ACTIVE_DAYS)
    segment_rows, segment_ms = _median(lambda: matching_contacts(criteria, now=NOW).count())
    floor_rows, floor_ms = _median(lambda: _floor(since))
    if segment_rows != floor_rows:
        raise RuntimeError(f"The segment counts {segment_rows}, the plain SQL {floor_rows}.")
    print(f"\nNested segment count at {scale:,} contacts ({segment_rows:,} match)")
    print(f"{'query':<24}{'median ms':>12}")
    print(f"{'segment (ORM)':<24}{segment_ms:>12.1f}")
    print(f"{'plain SQL floor':<24}{floor_ms:>12.1f}")
    return [
        Figure("nested_count_median", segment_ms, "ms", floor=round(floor_ms, 2)),
        Figure("nested_count_rows", segment_rows, "rows"),
    ]


def _floor(since) -> int:
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [since])
        return cursor.fetchone()[0]


def _median(call: Callable[[], int]) -> tuple[int, float]:
    """Run once to warm up, then RUNS times; return the result and the median in milliseconds."""
    result = call()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return result, statistics.median(samples)
