import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0021_consent_event_recorded_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="erasurecertificate",
            name="reviewed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the privacy officer dealt with the leftovers found.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="erasurecertificate",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="erasurecertificate",
            name="scan_method",
            field=models.JSONField(
                default=dict,
                help_text="Per table: the fields scanned, how they were matched, which rows.",
            ),
        ),
    ]
