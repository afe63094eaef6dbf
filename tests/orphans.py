"""Rows linked to contacts without a database constraint, counted by reading the tables directly."""

from django.db import connection

from core.orphans import unconstrained_contact_links


def _counts(condition: str, params: list) -> dict[str, int]:
    found = {}
    with connection.cursor() as cursor:
        for table, column in unconstrained_contact_links():
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE {condition.format(column=column)}",  # noqa: S608
                params,
            )
            (count,) = cursor.fetchone()
            if count:
                found[f"{table}.{column}"] = count
    return found


def orphaned_rows() -> dict[str, int]:
    """Return, per unconstrained link, how many rows point at a contact that is gone."""
    return _counts(
        "{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM crm_contact WHERE id = {column})", []
    )


def rows_linked_to(contact_id: int) -> dict[str, int]:
    """Return, per unconstrained link, how many rows point at this contact."""
    return _counts("{column} = %s", [contact_id])
