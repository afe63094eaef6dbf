"""Tracking batches already written, webhook tokens already seen, and the engagement export permission."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrackingFlush",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("batch", models.CharField(max_length=36, unique=True)),
                ("hits", models.PositiveIntegerField()),
                ("events", models.PositiveIntegerField()),
                ("flushed_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                "ordering": ["-flushed_at"],
            },
        ),
        migrations.AlterModelOptions(
            name="messageevent",
            options={
                "ordering": ["-occurred_at"],
                "permissions": [
                    ("export_engagement", "Can export pseudonymised engagement for analysis")
                ],
            },
        ),
        migrations.CreateModel(
            name="WebhookNonce",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider", models.CharField(max_length=20)),
                ("nonce", models.CharField(max_length=128)),
                ("received_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("provider", "nonce"), name="campaigns_webhook_once"
                    )
                ],
            },
        ),
    ]
