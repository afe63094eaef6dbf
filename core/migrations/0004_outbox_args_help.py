"""The outbox says truthfully what its arguments may hold."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_audit_channel_choices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxtask",
            name="args",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Ids, or an unconfirmed subscription's signed link; deleted once published.",
            ),
        ),
    ]
