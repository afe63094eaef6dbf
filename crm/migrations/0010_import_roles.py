"""Give the roles the list-import permissions: Marketing imports lists, the officer reads them.

Runs the same function as privacy's 0009, which sets each group's permissions to the
`privacy.staff.roles` table and gives the Administrator group every permission that exists now. It also
depends on the campaigns' roles migration, so that the last run of it sees every model.
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_import_report_retention_rule"),
        ("campaigns", "0002_roles"),
    ]

    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
