"""Apply the `privacy.staff.roles` table to the groups again: Administrators gain the permissions of the
task outbox and of the two-factor devices (the other roles' tables are unchanged)."""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_initial"),
        ("privacy", "0012_audit_retention_rule"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    # Going back leaves the groups as they are: the older table only granted less.
    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
