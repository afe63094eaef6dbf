"""The audit trail now belongs to core and the suppression list to crm: state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0011_suppression"),
        ("core", "0001_initial"),
        ("privacy", "0013_subject_request_language"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="suppression",
                    name="client",
                ),
                migrations.DeleteModel(
                    name="AuditEvent",
                ),
                migrations.DeleteModel(
                    name="Suppression",
                ),
            ],
        ),
    ]
