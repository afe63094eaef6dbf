"""Apply the `privacy.staff.roles` table to the groups again: Marketing builds and sends campaigns;
Support and the Privacy officer see them.

Runs the same function as privacy's 0009, which sets each group's permissions to exactly the
table's and gives the Administrator group every permission that exists now.
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_roles")]

    # Going back leaves the groups as they are: the older table granted no campaign permissions.
    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
