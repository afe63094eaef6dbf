"""Contact indexes hold only the rows a look-up can find: the phones, companies, activity and merges set."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0024_provenance_without_database_keys_to_source_and_batch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contact",
            name="crm_contact_phone",
        ),
        migrations.AlterField(
            model_name="contact",
            name="company",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="contacts",
                to="crm.company",
            ),
        ),
        migrations.AlterField(
            model_name="contact",
            name="last_activity_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Last action of the person themselves; never a staff edit or an import.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="contact",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="merged_duplicates",
                to="crm.contact",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("phone", ""), _negated=True),
                fields=["phone"],
                name="crm_contact_phone_given",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("company__isnull", False)),
                fields=["company"],
                name="crm_contact_company",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("last_activity_at__isnull", False)),
                fields=["last_activity_at"],
                name="crm_contact_last_activity",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="crm_contact_merged_into",
            ),
        ),
    ]
