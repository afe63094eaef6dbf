"""The audit trail's channel becomes a list of choices; "cli" was another name for "command".

Going back keeps "command": the two meant the same, and the trail is not rewritten twice.
"""

from django.db import migrations, models

BATCH = 10_000


def cli_is_command(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    while ids := list(
        AuditEvent.objects.filter(channel="cli").values_list("pk", flat=True)[:BATCH]
    ):
        AuditEvent.objects.filter(pk__in=ids).update(channel="command")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_outbox_countdown"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="channel",
            field=models.CharField(
                choices=[
                    ("admin", "Admin"),
                    ("api", "API"),
                    ("command", "Management command"),
                    ("task", "Background task"),
                    ("campaigns", "Campaign sending"),
                    ("webhook", "E-mail provider's webhook"),
                    ("mailbox", "Bounce mailbox"),
                    ("public", "Public page"),
                    ("web_form", "Web form"),
                    ("double_opt_in", "Double opt-in confirmation"),
                    ("preference_centre", "Preference centre"),
                    ("unsubscribe_link", "Unsubscribe link"),
                    ("subject_request", "Data-subject request"),
                    ("import", "List import"),
                    ("staff_phone", "Staff, on the phone"),
                    ("staff_paper", "Staff, on paper"),
                    ("email", "E-mail"),
                    ("post", "Letter"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(cli_is_command, migrations.RunPython.noop),
    ]
