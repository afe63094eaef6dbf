"""No row may point at a contact that is gone, even where no database constraint says so.

High-volume and bookkeeping tables (messages, web visits, consent states, notice deliveries,
exports, disclosures, breach and recipient subjects) link to `crm_contact` without a database
foreign key: on PostgreSQL each such key costs a check per deleted contact at commit, which was
most of a purge's time (docs/performance.md). The registry removes their rows before the contact
(`privacy.deletion.removal`); on PostgreSQL one statement-level trigger on `crm_contact` checks,
set-based over the deleted rows, that none of those tables still points at them, and refuses the
statement otherwise, as the foreign key did. SQLite has no statement-level trigger; there the
registry's tests (every purge and erasure leaves no orphan) are the guard.
"""

from django.apps import apps

GUARD_NAME = "crm_contact_leaves_no_orphans"


def unconstrained_contact_links() -> list[tuple[str, str]]:
    """Return (table, column) of every link to a contact that has no database constraint."""
    contact = apps.get_model("crm", "Contact")
    links = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if (
                field.is_relation
                and field.related_model is contact
                and not field.db_constraint
                and model is not contact
            ):
                links.append((model._meta.db_table, field.column))
    return sorted(links)


def create_guard_sql(links: list[tuple[str, str]]) -> str:
    """Return the PostgreSQL that creates the trigger refusing a deletion leaving rows behind."""
    # Table and column names come from the models, never from input.
    checks = "\n".join(
        f"  IF EXISTS (SELECT 1 FROM removed JOIN {table} ON {table}.{column} = removed.id) THEN\n"  # noqa: S608
        f"    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = "
        f"'contacts deleted while {table}.{column} still points at them';\n"
        f"  END IF;"
        for table, column in links
    )
    return (
        f"CREATE OR REPLACE FUNCTION {GUARD_NAME}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{checks}\n  RETURN NULL;\nEND $$;\n"
        f"DROP TRIGGER IF EXISTS {GUARD_NAME} ON crm_contact;\n"
        f"CREATE TRIGGER {GUARD_NAME} AFTER DELETE ON crm_contact "
        f"REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION {GUARD_NAME}();"
    )


DROP_GUARD_SQL = (
    f"DROP TRIGGER IF EXISTS {GUARD_NAME} ON crm_contact; DROP FUNCTION IF EXISTS {GUARD_NAME}();"
)
