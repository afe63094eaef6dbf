"""The export's rows as JSON built by PostgreSQL, the same values the Python path writes.

Decoding a hundred thousand rows into Python dates and decimals and encoding them again as JSON is
what made a large access export several times slower than reading the same rows. On PostgreSQL
each row's JSON is built by the database (`row_to_json`) with the values written as the Python
path writes them: times in ISO 8601 in UTC with microseconds only when there are some, decimals
and ids as text, related rows by their name (looked up in Python, once per distinct id, and passed
in). A declared field of a kind this module does not know keeps its table on the Python path.

The readable page's row of each row is built by the same statement: each cell is the value as
Python's `html.escape(str(value))` writes it after reading the row's JSON (`None`, `True` and
`False` spelled the Python way), so the page is the same as the Python path's without decoding a
hundred thousand rows again. Only JSON values are rendered in Python, as Python prints them.
"""

import json
from collections.abc import Iterator
from html import escape

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import QuerySet

from core.registry import Declaration

CHUNK = 2000
# Distinct JSON values whose page cell is kept for the next rows (most rows repeat a few).
SEEN_JSON_VALUES = 1000
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
    if not isinstance(declaration.model._meta.pk, models.IntegerField | models.UUIDField):
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


def _escaped(text: str) -> str:
    """Return SQL escaping a text as `html.escape` does: &, <, >, double and single quotes."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = f"replace({text}, '{char}', '{entity}')"
    return f"replace({text}, '''', '&#x27;')"


def _cell(field: models.Field, value: str) -> str | None:
    """Return the SQL of the value's page cell as Python writes it, or None for a JSON value."""
    if isinstance(field, models.JSONField):
        return None
    if isinstance(field, models.BooleanField):
        text = f"CASE WHEN {value} THEN 'True' WHEN NOT {value} THEN 'False' ELSE 'None' END"
    elif isinstance(field, models.IntegerField):
        text = f"coalesce({value}::text, 'None')"
    else:
        text = f"coalesce({_escaped(f'{value}::text')}, 'None')"
    return f"'<td>' || {text} || '</td>'"


def _row_segments(fields: list[models.Field], values: list[str]) -> list[str]:
    """Return the SQL of the page row's pieces: runs of cells built in SQL, and JSON values."""
    segments: list[str] = []
    run = ["'<tr>'"]
    for field, value in zip(fields, values, strict=True):
        cell = _cell(field, value)
        if cell is None:
            segments += [" || ".join(run), f"{value}::text"]
            run = ["''"]
        else:
            run.append(cell)
    run.append("'</tr>'")
    return [*segments, " || ".join(run)]


def _json_cell(text: str | None, seen: dict[str | None, str]) -> str:
    """Return a JSON value's page cell as Python writes it, once per distinct recent value."""
    if text not in seen:
        if len(seen) >= SEEN_JSON_VALUES:
            seen.clear()
        seen[text] = f"<td>{escape(str(None if text is None else json.loads(text)))}</td>"
    return seen[text]


def database_rows(
    declaration: Declaration, contact_ids: list[int], *, with_page: bool = True
) -> Iterator[tuple[str, str]]:
    """Yield the person's rows of one model, in id order, as JSON text and the page's `<tr>`.

    Both are built by PostgreSQL from the same read of each row; without `with_page` the page's
    row is left empty.
    """
    queryset = declaration.rows_for(contact_ids=contact_ids)
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    opts = declaration.model._meta
    table, pk, key = quote(opts.db_table), quote(opts.pk.column), quote(opts.pk.name)
    fields = export_fields(declaration)
    columns, labels = [], []
    for field in fields:
        # The id as stored: its JSON is the same (a number, or a UUID's text), and rows sort by it.
        value = f"t.{pk}" if field.primary_key else _expression(field, "t")
        columns.append(f"{value} AS {quote(field.name)}")
        if field.is_relation:
            labels.append(_labels(queryset, field))
    try:
        selected, inner = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        # A condition Django knows selects nothing (an empty IN): there are no rows.
        return
    values = [f"v.{quote(field.name)}" for field in fields]
    segments = _row_segments(fields, values) if with_page else ["''"]
    sql = (
        # The JSON's keys are the subquery's column names: the fields' names.
        f"SELECT row_to_json(v)::text, {', '.join(segments)} "  # noqa: S608 -- names from the model
        # OFFSET 0 keeps the values a subquery, each computed once for both the JSON and the page.
        f"FROM (SELECT {', '.join(columns)} FROM {table} AS t "
        f"WHERE t.{pk} IN ({selected}) ORDER BY t.{pk} OFFSET 0) AS v ORDER BY v.{key}"
    )
    seen: dict[str | None, str] = {}
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*labels, *inner])
        while chunk := cursor.fetchmany(CHUNK):
            for text, *pieces in chunk:
                if len(pieces) == 1:
                    yield text, pieces[0]
                    continue
                # Pieces alternate: SQL-built cells, a JSON value, SQL-built cells, ...
                html = [_json_cell(p, seen) if i % 2 else p for i, p in enumerate(pieces)]
                yield text, "".join(html)


def json_rows(declaration: Declaration, contact_ids: list[int]) -> Iterator[str]:
    """Yield the person's rows of one model as JSON text, built by PostgreSQL, in id order."""
    for text, _ in database_rows(declaration, contact_ids, with_page=False):
        yield text
