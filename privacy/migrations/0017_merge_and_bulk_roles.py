"""Apply the roles table again: merging duplicates and bulk changes for Marketing and the officer."""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


def create_roles(apps, schema_editor):
    roles_0009.create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0016_consent_merge_channel"),
        ("crm", "0013_contact_merge_and_bulk_actions"),
    ]

    operations = [
        # Going back leaves the groups as they are.
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
