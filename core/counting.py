"""Count rows and list distinct values without scanning a million rows.

PostgreSQL keeps an estimate of each table's size (`pg_class.reltuples`, refreshed by autovacuum
and ANALYZE); reading it costs nothing, while an exact `COUNT(*)` over a million contacts reads
them all. Other databases fall back to the exact count and a plain DISTINCT.
"""

from django.db import connections
from django.db.models import Model, QuerySet


def estimated_table_rows(model: type[Model], *, using: str = "default") -> int | None:
    """Return the planner's estimate of the model's row count, or None when there is none."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1 means the table was never analysed: no estimate yet.
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


def table_estimate(
    queryset: QuerySet, *, exact_below: int, whole: QuerySet | None = None
) -> int | None:
    """Return the table's estimate when the queryset is the whole list and big, else None.

    The whole list is the table itself, or `whole` (e.g. the table without merged records): a
    queryset with the same conditions stands for it, so an estimate of the table is "about" right.
    """
    conditions = whole.query.where if whole is not None else None
    if queryset.query.where and queryset.query.where != conditions:
        return None
    estimate = estimated_table_rows(queryset.model, using=queryset.db)
    if estimate is None or estimate < exact_below:
        return None
    return estimate


def fast_count(queryset: QuerySet, *, exact_below: int) -> int:
    """Count the queryset; for a whole big table, return the estimate instead of scanning it."""
    estimate = table_estimate(queryset, exact_below=exact_below)
    return queryset.count() if estimate is None else estimate


def distinct_values(model: type[Model], column: str, *, using: str = "default") -> list[str]:
    """Return the sorted distinct non-empty values of an indexed text column.

    On PostgreSQL a recursive query hops through the index from one value to the next (a "loose
    index scan"), reading one row per distinct value instead of the whole table.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        values = model._base_manager.using(using).exclude(**{column: ""}).order_by(column)
        return list(values.values_list(column, flat=True).distinct())
    table = connection.ops.quote_name(model._meta.db_table)
    col = connection.ops.quote_name(model._meta.get_field(column).column)
    # Table and column are quoted names from the model's metadata, never user input.
    sql = (
        f"WITH RECURSIVE hop(v) AS ("  # noqa: S608
        f"  (SELECT {col} FROM {table} WHERE {col} > '' ORDER BY {col} LIMIT 1)"
        f"  UNION ALL"
        f"  SELECT (SELECT {col} FROM {table} WHERE {col} > hop.v ORDER BY {col} LIMIT 1)"
        f"  FROM hop WHERE hop.v IS NOT NULL"
        f") SELECT v FROM hop WHERE v IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
