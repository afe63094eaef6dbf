"""Indexes that let PostgreSQL answer case-insensitive name prefix searches from an index.

Django's `istartswith` compiles to `UPPER(col::text) LIKE UPPER('term%')` on PostgreSQL, which only
an expression index with `text_pattern_ops` can serve under a non-C collation. Other databases
search without them (SQLite's LIKE is case-insensitive and scans), so this migration does nothing
there.
"""

from django.db import migrations

INDEXES = {
    "crm_contact_upper_last_name": ("crm_contact", "last_name"),
    "crm_contact_upper_first_name": ("crm_contact", "first_name"),
    "crm_company_upper_name": ("crm_company", "name"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'((UPPER("{column}"::text)) text_pattern_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
