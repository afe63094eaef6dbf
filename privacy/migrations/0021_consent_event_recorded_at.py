import django.utils.timezone
from django.db import migrations, models


def recorded_when_dated(apps, schema_editor):
    """Earlier events were recorded when they were dated, as far as the ledger knows."""
    ConsentEvent = apps.get_model("privacy", "ConsentEvent")
    ConsentEvent.objects.update(recorded_at=models.F("occurred_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0020_recipients"),
    ]

    operations = [
        migrations.AddField(
            model_name="consentevent",
            name="backdate_reason",
            field=models.TextField(
                blank=True,
                help_text="Why the event is dated earlier than it was recorded (a backdated entry).",
            ),
        ),
        migrations.AddField(
            model_name="consentevent",
            name="recorded_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                editable=False,
                help_text="When the ledger received the event.",
            ),
        ),
        migrations.RunPython(recorded_when_dated, migrations.RunPython.noop),
    ]
