"""The insert triggers find the rows to lock by a join, which reads the table once (core/orphans.py)."""

from importlib import import_module

from django.db import migrations

from core.orphans import create_guard_sql

# The links of the migration that made the triggers: their functions are made again, in place.
LINKS = import_module("privacy.migrations.0028_contact_orphan_guards").LINKS


def recreate_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_guard_sql(LINKS))


class Migration(migrations.Migration):
    dependencies = [("privacy", "0029_orphan_guards_lock_only_rows_of_others")]

    # Going back keeps the new functions: they lock and refuse exactly what the previous ones did.
    operations = [migrations.RunPython(recreate_guards, migrations.RunPython.noop)]
