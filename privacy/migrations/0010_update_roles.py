"""Apply the current `privacy.staff.roles` table to the groups again: Marketing no longer sees invoices.

Runs the same function as 0009, which sets each group's permissions to exactly the table's, and
gives the Administrator group every permission that exists now.
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [("privacy", "0009_roles")]

    # Going back leaves the groups as they are: the older table only granted more.
    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
