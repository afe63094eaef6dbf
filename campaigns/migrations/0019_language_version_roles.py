"""Give Marketing the campaign versions and e-mail templates, from the `privacy.staff.roles` table.

Runs the same function as privacy's 0009, which sets each group's permissions to the table's and
gives the Administrator group every permission that exists now.
"""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0018_jinja_syntax_and_standard_layout")]

    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
