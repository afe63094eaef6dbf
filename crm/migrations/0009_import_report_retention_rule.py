"""Keep the rejected rows of an imported list 30 days, by a retention rule like every other record."""

from django.db import migrations

NOTE = (
    "The report of the rows an import refused is kept 30 days, long enough for the client to "
    "correct their list, then removed."
)


def seed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.get_or_create(
        kind="import_reports", defaults={"period_days": 30, "note": NOTE}
    )


def unseed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(kind="import_reports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_list_imports"),
        ("privacy", "0012_audit_retention_rule"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
