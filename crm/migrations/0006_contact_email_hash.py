"""Keep the keyed hash of each contact's address beside it, and fill it for existing contacts."""

from django.db import migrations, models

from core.hashing import stored_email_hash

BATCH = 2000


def fill_hashes(apps, schema_editor) -> None:
    """Hash the stored addresses in primary-key batches (the column is new, so nothing is lost)."""
    Contact = apps.get_model("crm", "Contact")
    last = 0
    while True:
        batch = list(
            Contact.objects.filter(pk__gt=last, email__isnull=False)
            .order_by("pk")
            .values_list("pk", "email")[:BATCH]
        )
        if not batch:
            return
        Contact.objects.bulk_update(
            [Contact(pk=pk, email_hash=stored_email_hash(email)) for pk, email in batch],
            ["email_hash"],
        )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_contact_export_permission")]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="email_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(fill_hashes, migrations.RunPython.noop),
    ]
