"""Seed the default purposes and a first privacy statement; both stay editable in the admin."""

from django.db import migrations
from django.utils import timezone

PURPOSES = [
    (
        "marketing_email",
        "Marketing e-mail",
        "consent",
        "Sending offers and campaigns by e-mail, for us and for the clients we work for.",
        "Yes, send me offers and campaigns by e-mail. I can unsubscribe at any time.",
    ),
    (
        "newsletter",
        "Newsletter",
        "consent",
        "Sending our newsletter to people who asked for it.",
        "Yes, send me the newsletter by e-mail. I can unsubscribe at any time.",
    ),
    (
        "analytics",
        "Analytics",
        "consent",
        "Measuring, with pseudonymous keys, whether our e-mails are opened and links clicked.",
        "Yes, you may record whether I open your e-mails and click their links.",
    ),
    (
        "profiling",
        "Profiling for marketing audiences",
        "consent",
        "Grouping people by interests and activity to choose who receives which campaign.",
        "Yes, you may use my interests and activity to choose which campaigns I receive.",
    ),
    (
        "service",
        "Service operation",
        "contract",
        "Running the service a customer signed up for, including messages about it.",
        "",
    ),
    (
        "support",
        "Support",
        "legitimate_interest",
        "Answering questions sent through the contact form, by e-mail or by phone.",
        "",
    ),
    (
        "legal",
        "Legal obligations",
        "legal_obligation",
        "Keeping billing records and answering authorities where the law requires it.",
        "",
    ),
]

FIRST_NOTICE = """We process personal data only for the purposes listed below, on the legal basis \
named for each, and only for as long as the retention rules allow.

You can ask for a copy of your data, its correction, its erasure, a portable export, a \
restriction of processing, or object to processing, through the request form on this site. We \
answer within one month.

You can withdraw any consent at any time, as easily as you gave it: every e-mail carries a link \
to your preferences and a one-click unsubscribe. After an opt-out we keep only a keyed hash of \
your e-mail address, so that you are never added again by a later list or form."""


def seed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    NoticeVersion = apps.get_model("privacy", "NoticeVersion")
    for code, name, basis, description, consent_text in PURPOSES:
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "legal_basis": basis,
                "description": description,
                "consent_text": consent_text,
            },
        )
    now = timezone.now()
    NoticeVersion.objects.get_or_create(
        version="1.0",
        defaults={
            "body": FIRST_NOTICE,
            "effective_at": now,
            "published_at": now,
            "summary_of_changes": "First version.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("privacy", "Purpose").objects.filter(
        code__in=[code for code, *_ in PURPOSES]
    ).delete()
    apps.get_model("privacy", "NoticeVersion").objects.filter(version="1.0").delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_consent_ledger_and_suppression")]

    operations = [migrations.RunPython(seed, unseed)]
