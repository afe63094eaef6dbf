"""No row may point at a row that is not there, though no database foreign key says so.

The links to contacts (and the tag and list links beside them, and a consent state's link to the
event that decided it) have no database foreign key (`db_constraint=False`): with one, PostgreSQL
checks every link for every deleted row at commit (about 10 µs each, even from an empty table),
which was most of a retention purge's and an erasure's time (docs/performance.md). The registry
removes the rows before what they point at (`privacy.deletion.removal`). On PostgreSQL, triggers
do what the foreign keys did, once per statement instead of once per row:

- an `AFTER DELETE` trigger on each table pointed at joins the deleted rows (a transition table)
  to each table pointing at it and refuses the statement when any row still points at them;
- an `AFTER INSERT` trigger on each pointing table locks the rows its new rows name (`FOR KEY
  SHARE`, as a foreign key's check does, so a contact cannot be erased under a row being
  written) and refuses the statement when one of them does not exist. Rows the transaction
  itself inserted are not locked: no other transaction sees them before it commits (an import
  creates 800,000 contacts and their provenance in one statement; locking them took 4 s).
  Campaign messages have none for their contact: they are made from the contacts in the same
  statement, by the hundred thousand, and an erasure racing a campaign's start leaves at most a
  message naming an id no longer there, which holds nothing about the person.

Both raise SQLSTATE 23503, the foreign-key violation Django reports as `IntegrityError`. A link
changed by UPDATE (only merging re-points rows, to a record it has locked) is not checked; a
record's link to another record of its own table (a merged duplicate's) is not guarded. SQLite
has no statement-level trigger; there the registry's tests, which read every linked table for
orphans after an erasure and a purge, are the guard.
"""

from itertools import groupby

from django.apps import apps

# (table, column): rows made from the contacts in the same statement, by the thousand.
UNCHECKED_INSERTS = frozenset({("campaigns_message", "contact_id")})

Link = tuple[str, str, str]  # the pointing table, its column, the table pointed at


def unconstrained_links() -> list[Link]:
    """Return every link between two tables that has no database constraint."""
    links = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and not field.db_constraint and field.related_model is not model:
                target = field.related_model._meta
                links.append((model._meta.db_table, field.column, target.db_table))
    return sorted(links)


def delete_guard_name(target: str) -> str:
    """Return the name of the trigger (and its function) on the table pointed at."""
    return f"{target}_leaves_no_orphans"


def insert_guard_name(table: str, column: str) -> str:
    """Return the name of the trigger (and its function) on the pointing table."""
    return f"{table}_{column}_exists"


def _refuse(message: str) -> str:
    return f"    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = '{message}';\n"


def _delete_guard(target: str, links: list[Link]) -> list[str]:
    name = delete_guard_name(target)
    checks = "".join(
        f"  IF EXISTS (SELECT 1 FROM removed JOIN {table} ON {table}.{column} = removed.id) THEN\n"
        + _refuse(f"{target} rows deleted while {table}.{column} still points at them")
        + "  END IF;\n"
        for table, column, _ in links
    )
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{checks}  RETURN NULL;\nEND $$;",
        f"DROP TRIGGER IF EXISTS {name} ON {target};",
        f"CREATE TRIGGER {name} AFTER DELETE ON {target} "
        f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION {name}();",
    ]


def _insert_guard(table: str, column: str, target: str) -> list[str]:
    name = insert_guard_name(table, column)
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        # A join, not `id IN (SELECT ...)`: the planner then knows how many rows were added
        # and hashes the table once, rather than probing it for each of 800,000 ids.
        f"  PERFORM 1 FROM {target} JOIN added ON added.{column} = {target}.id "
        f"WHERE {target}.xmin <> pg_current_xact_id()::xid FOR KEY SHARE OF {target};\n"
        f"  IF EXISTS (SELECT 1 FROM added WHERE {column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {target} WHERE {target}.id = added.{column})) THEN\n"
        + _refuse(f"{table}.{column} names a {target} row that does not exist")
        + "  END IF;\n  RETURN NULL;\nEND $$;",
        f"DROP TRIGGER IF EXISTS {name} ON {table};",
        f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS added "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();",
    ]


def create_guard_sql(links: list[Link]) -> str:
    """Return the PostgreSQL that creates the triggers standing in for these links' foreign keys.

    Table and column names come from the models, never from input.
    """
    statements = []
    by_target = sorted(links, key=lambda link: link[2])
    for target, pointing in groupby(by_target, key=lambda link: link[2]):
        statements += _delete_guard(target, list(pointing))
    for table, column, target in links:
        if (table, column) not in UNCHECKED_INSERTS:
            statements += _insert_guard(table, column, target)
    return "\n".join(statements)


def drop_guard_sql(links: list[Link]) -> str:
    """Return the PostgreSQL that drops the triggers `create_guard_sql` made for these links."""
    statements = []
    for target in sorted({link[2] for link in links}):
        name = delete_guard_name(target)
        statements += [f"DROP TRIGGER IF EXISTS {name} ON {target};"]
        statements += [f"DROP FUNCTION IF EXISTS {name}();"]
    for table, column, _ in links:
        name = insert_guard_name(table, column)
        statements += [f"DROP TRIGGER IF EXISTS {name} ON {table};"]
        statements += [f"DROP FUNCTION IF EXISTS {name}();"]
    return "\n".join(statements)
