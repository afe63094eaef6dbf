"""Keep opens and clicks one year, by a retention rule like every other record."""

from django.db import migrations

NOTE = (
    "Opens and clicks, with their country, are kept one year to compare campaigns, then removed; "
    "deliveries, bounces, complaints and unsubscribes stay with the campaign's history."
)


def seed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.get_or_create(
        kind="tracking_events", defaults={"period_days": 365, "note": NOTE}
    )


def unseed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(kind="tracking_events").delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0011_roles")]

    operations = [migrations.RunPython(seed, unseed)]
