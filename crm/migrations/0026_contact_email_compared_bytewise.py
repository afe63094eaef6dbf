"""Contact addresses compare byte for byte on PostgreSQL: one index serves equality and prefixes.

Under the server's default collation a varchar index cannot serve `LIKE 'prefix%'`, so Django
keeps a second index on the address (`varchar_pattern_ops`) beside the unique one, which every
contact written pays for. Addresses are stored normalised (lower-case ASCII but for the rare
international ones), so the byte order is as good an order as any, and under the "C" collation
the unique index serves the prefix searches itself, and sorts and compares addresses faster.

Django's model state does not carry the collation (SQLite has no "C" collation; its default,
BINARY, already compares bytes), so an AlterField of the address would set the default collation
again: repeat this migration's forward step after one. The staging tables of imports not
finished yet get the same collation, so that a resumed import can compare their addresses.
"""

from django.db import migrations

TABLE, COLUMN = "crm_contact", "email"


def _pattern_index(schema_editor) -> str:
    return schema_editor._create_index_name(TABLE, [COLUMN], suffix="_like")


def _set_staging_collation(schema_editor, collation: str) -> None:
    """Give the staging tables of unfinished imports the addresses' collation, to compare them."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE %s",
            [r"crm\_import\_stage\_%"],
        )
        tables = [table for (table,) in cursor.fetchall()]
    for table in tables:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{COLUMN}" TYPE varchar(254) COLLATE {collation}'
        )


def compare_bytewise(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{_pattern_index(schema_editor)}"')
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ALTER COLUMN "{COLUMN}" TYPE varchar(254) COLLATE "C"'
    )
    _set_staging_collation(schema_editor, '"C"')


def compare_by_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ALTER COLUMN "{COLUMN}" TYPE varchar(254) COLLATE "default"'
    )
    _set_staging_collation(schema_editor, '"default"')
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{_pattern_index(schema_editor)}" '
        f'ON "{TABLE}" ("{COLUMN}" varchar_pattern_ops)'
    )


class Migration(migrations.Migration):
    dependencies = [("crm", "0025_contact_indexes_only_where_set")]

    operations = [migrations.RunPython(compare_bytewise, compare_by_default_collation)]
