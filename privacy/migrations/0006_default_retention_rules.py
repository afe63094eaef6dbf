"""Seed the retention schedule of the privacy statement; every rule stays editable in the admin."""

from django.db import migrations

RULES = [
    (
        "inactive_customers_subscribers",
        730,
        "Customer accounts and newsletter subscribers inactive for two years are deleted.",
    ),
    (
        "contact_form_answered",
        90,
        "Contact-form messages are kept only as long as needed to answer them.",
    ),
    (
        "contact_form_unanswered",
        365,
        "A contact-form message nobody marked answered goes after a year all the same.",
    ),
    ("unverified_requests", 7, "Requests never verified by their e-mail link."),
    (
        "completed_requests",
        1095,
        "Answered requests are kept three years for accountability (art. 5(2)), then removed.",
    ),
    ("expired_exports", 0, "Access and portability exports go as soon as their link expires."),
    ("invoices", 1095, "Billing records: at most three years after the invoice's due date."),
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
    dependencies = [("privacy", "0005_retention")]

    operations = [migrations.RunPython(seed, unseed)]
