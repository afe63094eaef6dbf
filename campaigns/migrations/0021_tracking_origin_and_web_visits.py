"""Tracked or not per message, the origin of opens and clicks, web visits after a click and their
one-year retention rule, and the roles that see them.

Messages sent before tracking was decided per message were tracked exactly when their person
had not turned tracking off: `tracked` says so for them (crm's 0012 then drops that flag).
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

roles_0009 = importlib.import_module("privacy.migrations.0009_roles")
NOTE = "Pages viewed and files downloaded after a tracked click are kept one year, then removed."


def mark_sent_tracked(apps, schema_editor):
    Message = apps.get_model("campaigns", "Message")
    Message.objects.filter(contact__tracking_allowed=True).exclude(sent_at=None).update(
        tracked=True
    )


def seed_rule(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.get_or_create(
        kind="web_visits", defaults={"period_days": 365, "note": NOTE}
    )


def unseed_rule(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(kind="web_visits").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0020_ab_subject_test"),
        ("crm", "0011_suppression"),
        ("privacy", "0018_tracking_basis"),
    ]

    operations = [
        migrations.CreateModel(
            name="VisitorReference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("nonce", models.CharField(max_length=32, unique=True)),
                ("used_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.AddField(
            model_name="message",
            name="tracked",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name="messageevent",
            name="origin",
            field=models.CharField(
                choices=[
                    ("human", "Human"),
                    ("machine", "Machine (privacy proxy or security scanner)"),
                    ("unknown", "Unknown"),
                ],
                db_default="unknown",
                default="unknown",
                help_text="For opens and clicks: the person, or a machine that fetched it for them.",
                max_length=7,
            ),
        ),
        migrations.CreateModel(
            name="WebVisit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("page_view", "Page view"), ("download", "Download")],
                        max_length=10,
                    ),
                ),
                ("host", models.CharField(help_text="The website's domain.", max_length=253)),
                ("path", models.CharField(help_text="Without its query string.", max_length=500)),
                ("title", models.CharField(blank=True, max_length=200)),
                ("referrer_domain", models.CharField(blank=True, max_length=253)),
                ("occurred_at", models.DateTimeField()),
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="web_visits",
                        to="campaigns.campaign",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="web_visits",
                        to="crm.contact",
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at"],
                "indexes": [
                    models.Index(fields=["contact", "occurred_at"], name="campaigns_visit_contact"),
                    models.Index(fields=["occurred_at"], name="campaigns_visit_age"),
                ],
            },
        ),
        migrations.RunPython(mark_sent_tracked, migrations.RunPython.noop),
        migrations.RunPython(seed_rule, unseed_rule),
        migrations.RunPython(roles_0009.create_roles, migrations.RunPython.noop),
    ]
