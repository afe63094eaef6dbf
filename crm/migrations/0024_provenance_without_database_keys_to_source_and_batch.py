"""Provenance keeps its links to the source and the import batch without database constraints.

An import writes one provenance row per contact, all pointing at the same source and batch, and
PostgreSQL checked both keys of every row at commit (8 of the 15 s of a million-row import's
commit). Deleting a source is refused by the ORM (PROTECT) and a deleted batch's provenance is
cleared by it (SET_NULL); the indexes stay, for the segments by source and by list import.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0023_contact_and_provenance_index_audit")]

    operations = [
        migrations.AlterField(
            model_name="contactsource",
            name="import_batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The list import that brought this contact in, for imported contacts.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="provenance",
                to="crm.importbatch",
            ),
        ),
        migrations.AlterField(
            model_name="contactsource",
            name="source",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="contact_sources",
                to="crm.source",
            ),
        ),
    ]
