"""Keep the audit trail two years, by a retention rule like every other record."""

from django.db import migrations

NOTE = (
    "Who saw and changed what is kept two years for accountability (art. 5(2)), long enough to "
    "answer a complaint or an authority's question, then removed."
)


def seed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.get_or_create(
        kind="audit_events", defaults={"period_days": 730, "note": NOTE}
    )


def unseed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(kind="audit_events").delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0011_register_examples")]

    operations = [migrations.RunPython(seed, unseed)]
