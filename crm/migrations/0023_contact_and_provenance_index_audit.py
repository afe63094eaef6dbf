"""The indexes of contacts and provenance that no page or job reads go; an import's provenance is
unique per batch rather than per 500-character reference (docs/performance.md, issue 18).

Dropped: `crm_contact.owner_id` and `crm_contactsource.collected_by_id` (nothing looks rows up
by them but the deletion of a member of staff). The unique constraint on (contact, source,
reference) becomes (contact, import batch) for imported provenance, which also serves every
look-up by contact, and stays as it was, partial, for the other provenance.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0022_importbatch_step"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The member of staff who looks after this contact.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="contactsource",
            name="collected_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="contactsource",
            constraint=models.UniqueConstraint(
                fields=("contact", "import_batch"), name="crm_contactsource_unique_per_batch"
            ),
        ),
        migrations.AddConstraint(
            model_name="contactsource",
            constraint=models.UniqueConstraint(
                condition=models.Q(("import_batch__isnull", True)),
                fields=("contact", "source", "reference"),
                name="crm_contactsource_unique_outside_imports",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="contactsource",
            name="crm_contactsource_unique",
        ),
    ]
