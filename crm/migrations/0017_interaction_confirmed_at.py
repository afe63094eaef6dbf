from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0016_tracking_flags_to_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="interaction",
            name="confirmed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="For contact-form messages: when staff confirmed the person sent it (until answered or confirmed, the sender is unverified).",
                null=True,
            ),
        ),
    ]
