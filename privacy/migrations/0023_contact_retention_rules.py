"""Seed retention rules for prospects and for employees of clients and partners."""

from django.db import migrations

RULES = [
    (
        "inactive_prospects",
        730,
        "Prospects found in public sources or supplied lists who never became customers are "
        "deleted two years after their last own activity, or two years after we obtained their "
        "details when they never acted.",
    ),
    (
        "inactive_business_contacts",
        1095,
        "Contact persons at clients and partners are kept while we work with their organisation: "
        "three years after their last own activity, or after we obtained their details when they "
        "never acted, then deleted.",
    ),
]


def seed(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for kind, days, note in RULES:
        RetentionRule.objects.get_or_create(kind=kind, defaults={"period_days": days, "note": note})


def unseed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(
        kind__in=[kind for kind, *_ in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0022_erasure_certificate_review")]

    operations = [migrations.RunPython(seed, unseed)]
