"""Apply the `privacy.staff.roles` table again now that the audit trail belongs to core and the
suppression list to crm (the permissions kept their rows; the table names them anew)."""

import importlib

from django.db import migrations

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0014_move_audit_and_suppression"),
        ("config", "0003_move_outbox_to_core"),
        ("campaigns", "0014_segment_activity_limit"),
    ]

    # Going back leaves the groups as they are.
    operations = [migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop)]
