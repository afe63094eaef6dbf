"""Take over the audit trail from privacy and the task outbox from config: state only.

The tables keep their names (`privacy_auditevent`, `config_outboxtask`); no row moves. The
content types follow in `privacy/0015`, once every app's state has let go of the old models.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("config", "0002_roles"),
        ("privacy", "0013_subject_request_language"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxTask",
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
                        (
                            "task",
                            models.CharField(
                                help_text="The task's registered name.", max_length=200
                            ),
                        ),
                        (
                            "args",
                            models.JSONField(
                                blank=True, default=list, help_text="Ids only, never personal data."
                            ),
                        ),
                        ("kwargs", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, max_length=300)),
                    ],
                    options={
                        "db_table": "config_outboxtask",
                        "ordering": ["id"],
                    },
                ),
                migrations.CreateModel(
                    name="AuditEvent",
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
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("viewed", "Viewed"),
                                    ("created", "Created"),
                                    ("changed", "Changed"),
                                    ("deleted", "Deleted"),
                                    ("exported", "Exported"),
                                    ("erased", "Erased"),
                                    ("login", "Logged in"),
                                    ("login_failed", "Failed login"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        (
                            "channel",
                            models.CharField(
                                help_text="admin, api, task, command, or the public page or link used.",
                                max_length=20,
                            ),
                        ),
                        ("reason", models.CharField(blank=True, max_length=500)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty for the system itself (tasks, the public site).",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "object_type",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="contenttypes.contenttype",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "privacy_auditevent",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["object_type", "object_id"], name="privacy_audit_object"
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
