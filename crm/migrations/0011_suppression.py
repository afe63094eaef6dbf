"""Take over the suppression list from privacy: state only, the table stays `privacy_suppression`."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0013_subject_request_language"),
        ("crm", "0010_import_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Suppression",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("email_hash", models.CharField(max_length=64)),
                        (
                            "reason",
                            models.CharField(
                                choices=[
                                    ("unsubscribe", "Unsubscribed"),
                                    ("objection", "Objected (art. 21)"),
                                    ("erasure", "Erased (art. 17)"),
                                    ("complaint", "Marked as spam"),
                                    ("hard_bounce", "Hard bounce"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("lifted_at", models.DateTimeField(blank=True, null=True)),
                        ("lift_reason", models.CharField(blank=True, max_length=200)),
                        (
                            "client",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty for a global suppression (every sender).",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="suppressions",
                                to="crm.client",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "privacy_suppression",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(fields=["email_hash"], name="privacy_suppression_hash")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(
                                    ("client__isnull", True), ("lifted_at__isnull", True)
                                ),
                                fields=("email_hash",),
                                name="privacy_suppression_global_once",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(
                                    ("client__isnull", False), ("lifted_at__isnull", True)
                                ),
                                fields=("email_hash", "client"),
                                name="privacy_suppression_client_once",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
