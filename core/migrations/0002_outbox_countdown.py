"""A task queued with a delay keeps it: seconds after queueing before a worker may run it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxtask",
            name="countdown",
            field=models.PositiveIntegerField(
                default=0, help_text="Seconds after it was queued before a worker may run it."
            ),
        ),
    ]
