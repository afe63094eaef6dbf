"""Rows linked without a database constraint, counted by reading the tables directly."""

from django.db import connection

from core.orphans import unconstrained_links


def orphaned_rows() -> dict[str, int]:
    """Return, per unconstrained link, how many rows point at a row that is not there."""
    found = {}
    with connection.cursor() as cursor:
        for table, column, target in unconstrained_links():
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {target} WHERE {target}.id = {table}.{column})"
            )
            (count,) = cursor.fetchone()
            if count:
                found[f"{table}.{column}"] = count
    return found


def contact_links() -> set[str]:
    """Return the unconstrained links to contacts, as `table.column`."""
    return {f"{t}.{c}" for t, c, target in unconstrained_links() if target == "crm_contact"}


def rows_linked_to(contact_id: int) -> dict[str, int]:
    """Return, per unconstrained link to contacts, how many rows point at this contact."""
    found = {}
    with connection.cursor() as cursor:
        for link in sorted(contact_links()):
            table, column = link.split(".")
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", [contact_id])  # noqa: S608
            (count,) = cursor.fetchone()
            if count:
                found[link] = count
    return found
