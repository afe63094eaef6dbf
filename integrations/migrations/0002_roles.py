"""Give the Privacy officer the art. 19 screens, from the `privacy.staff.roles` table.

Runs the same function as privacy's 0009, which sets each group's permissions to the table's and
gives the Administrator group every permission that exists now (the endpoints' included).
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial"), ("privacy", "0020_recipients")]

    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
