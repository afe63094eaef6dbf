"""The export's rows as JSON built by PostgreSQL, the same values the Python path writes.

Decoding a hundred thousand rows into Python dates and decimals and encoding them again as JSON is
what made a large access export several times slower than reading the same rows. On PostgreSQL
each row's JSON is built by the database (`json_build_object`) with the values written as the Python
path writes them: times in ISO 8601 in UTC with microseconds only when there are some, decimals
and ids as text, related rows by their name (looked up in Python, once per distinct id, and passed
in). A declared field of a kind this module does not know keeps its table on the Python path.
"""

import json
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import QuerySet

from core.registry import Declaration

CHUNK = 2000
# Field kinds whose values PostgreSQL writes exactly as `exports._plain` does.
AS_IS = (
    models.BooleanField,
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.JSONField,
    models.FileField,
)
AS_TEXT = (models.DecimalField, models.UUIDField)


def export_fields(declaration: Declaration) -> list[models.Field]:
    """Return the fields an export shows of the model, in their order: the id, then declared."""
    names = ["id", *declaration.fields]
    names += [n for n in declaration.export_fields if n not in names]
    opts = declaration.model._meta
    return [opts.get_field(name) for name in names]


def builds_in_database(declaration: Declaration, using: str) -> bool:
    """Whether PostgreSQL can build this table's export rows exactly as the Python path does."""
    if connections[using].vendor != "postgresql":
        return False
    return all(_expression(f, "t") is not None for f in export_fields(declaration))


def _expression(field: models.Field, alias: str) -> str | None:
    """Return the SQL giving the field's value as the export writes it, or None if unknown."""
    column = f'{alias}."{field.column}"'
    if field.is_relation:
        if not field.many_to_one:
            return None
        # The related rows' names, looked up in Python and passed in; an unknown id as text.
        return f"coalesce((%s::jsonb ->> {column}::text), {column}::text)"
    if isinstance(field, models.DateTimeField):
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN """
            f"extract(microseconds FROM {utc})::int %% 1000000 = 0 THEN '' "
            f"ELSE to_char({utc}, '.US') END || '+00:00'"
        )
    if isinstance(field, models.DateField):
        return f"to_char({column}, 'YYYY-MM-DD')"
    if isinstance(field, models.GenericIPAddressField):
        return f"host({column})"
    if isinstance(field, AS_TEXT):
        return f"{column}::text"
    if isinstance(field, AS_IS):
        return column
    return None


def _labels(queryset: QuerySet, field: models.Field) -> str:
    """Return, as JSON, the name of each related row the queryset's rows point to."""
    ids = queryset.order_by().values_list(field.attname, flat=True).distinct()
    found = field.related_model._base_manager.in_bulk([i for i in ids if i is not None])
    return json.dumps({str(pk): str(obj) for pk, obj in found.items()})


def json_rows(declaration: Declaration, contact_ids: list[int]) -> Iterator[str]:
    """Yield the person's rows of one model as JSON text, built by PostgreSQL, in id order."""
    queryset = declaration.rows_for(contact_ids=contact_ids)
    connection = connections[queryset.db]
    opts = declaration.model._meta
    pairs = []
    params: list[Any] = []
    for field in export_fields(declaration):
        pairs.append(f"%s, {_expression(field, 't')}")
        params.append(field.name)
        if field.is_relation:
            params.append(_labels(queryset, field))
    try:
        selected, inner = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        # A condition Django knows selects nothing (an empty IN): there are no rows.
        return
    table, pk = connection.ops.quote_name(opts.db_table), connection.ops.quote_name(opts.pk.column)
    sql = (
        # Names from the model, values as parameters.
        f"SELECT json_build_object({', '.join(pairs)})::text FROM {table} AS t "  # noqa: S608
        f"WHERE t.{pk} IN ({selected}) ORDER BY t.{pk}"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*params, *inner])
        while chunk := cursor.fetchmany(CHUNK):
            for (text,) in chunk:
                yield text
