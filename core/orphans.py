"""No row may point at a contact that is not there, though no database foreign key says so.

The links from other tables to `crm_contact` have no database foreign key (`db_constraint=False`):
with one, PostgreSQL checks every link for every deleted contact at commit (about 10 µs each, even
from an empty table), which was most of a retention purge's time (docs/performance.md). The
registry removes the rows before their contact (`privacy.deletion.removal`). On PostgreSQL,
triggers do what the foreign keys did, once per statement instead of once per row:

- one `AFTER DELETE` trigger on `crm_contact` joins the deleted rows (a transition table) to each
  linked table and refuses the statement when any row still points at them;
- an `AFTER INSERT` trigger on each linked table locks the contacts the new rows name (`FOR KEY
  SHARE`, as a foreign key's check does, so a contact cannot be deleted under a row being
  written) and refuses the statement when one of them does not exist. Campaign messages have
  none: they are made from the contacts in the same statement, by the thousand, and an erasure
  racing a campaign's start leaves at most a message naming an id no longer there, which holds
  nothing about the person.

Both raise SQLSTATE 23503, the foreign-key violation Django reports as `IntegrityError`. A change
of the link by UPDATE (only merging re-points rows, to a record it has locked) is not checked.
SQLite has no statement-level trigger; there the registry's tests, which read every linked table
for orphans after an erasure and a purge, are the guard.
"""

from django.apps import apps

GUARD_NAME = "crm_contact_leaves_no_orphans"
# Rows made from the contacts in the same statement, by the thousand: no insert check.
INSERTED_FROM_CONTACTS = frozenset({"campaigns_message"})


def unconstrained_contact_links() -> list[tuple[str, str]]:
    """Return (table, column) of every link to a contact that has no database constraint."""
    contact = apps.get_model("crm", "Contact")
    links = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if (
                field.is_relation
                and field.related_model is contact
                and not field.db_constraint
                and model is not contact
            ):
                links.append((model._meta.db_table, field.column))
    return sorted(links)


def _refuse(message: str) -> str:
    return f"    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = '{message}';\n"


def create_guard_sql(links: list[tuple[str, str]]) -> str:
    """Return the PostgreSQL that creates the triggers standing in for these links' foreign keys.

    Table and column names come from the models, never from input.
    """
    checks = "".join(
        f"  IF EXISTS (SELECT 1 FROM removed JOIN {table} ON {table}.{column} = removed.id) THEN\n"
        + _refuse(f"contacts deleted while {table}.{column} still points at them")
        + "  END IF;\n"
        for table, column in links
    )
    statements = [
        f"CREATE OR REPLACE FUNCTION {GUARD_NAME}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{checks}  RETURN NULL;\nEND $$;",
        f"DROP TRIGGER IF EXISTS {GUARD_NAME} ON crm_contact;",
        f"CREATE TRIGGER {GUARD_NAME} AFTER DELETE ON crm_contact "
        f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION {GUARD_NAME}();",
    ]
    for table, column in links:
        if table in INSERTED_FROM_CONTACTS:
            continue
        name = f"{table}_{column}_exists"
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  PERFORM 1 FROM crm_contact WHERE id IN (SELECT {column} FROM added) "
            "FOR KEY SHARE;\n"
            f"  IF EXISTS (SELECT 1 FROM added WHERE {column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM crm_contact WHERE crm_contact.id = added.{column})) THEN\n"
            + _refuse(f"{table}.{column} names a contact that does not exist")
            + "  END IF;\n  RETURN NULL;\nEND $$;",
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS added "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();",
        ]
    return "\n".join(statements)


def drop_guard_sql(links: list[tuple[str, str]]) -> str:
    """Return the PostgreSQL that drops the triggers `create_guard_sql` made for these links."""
    statements = [
        f"DROP TRIGGER IF EXISTS {GUARD_NAME} ON crm_contact;",
        f"DROP FUNCTION IF EXISTS {GUARD_NAME}();",
    ]
    for table, column in links:
        name = f"{table}_{column}_exists"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"DROP FUNCTION IF EXISTS {name}();",
        ]
    return "\n".join(statements)
