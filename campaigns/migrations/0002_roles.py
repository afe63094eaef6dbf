"""Give the Administrator group the permissions of the campaign models and of contact tags.

Runs the same function as privacy's 0009, which sets each group's permissions to the
`privacy.staff.roles` table and gives the Administrator group every permission that exists now.
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("crm", "0007_tags_and_tracking_choice"),
        ("privacy", "0012_audit_retention_rule"),
    ]

    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
