"""On PostgreSQL, triggers stand in for the foreign keys the links no longer have (core/orphans.py)."""

from django.db import migrations

from core.orphans import create_guard_sql, drop_guard_sql

# The links without a database constraint when this migration was written (pointing table, its
# column, the table pointed at); a later migration that adds one recreates the triggers.
LINKS = [
    ("campaigns_message", "contact_id", "crm_contact"),
    ("campaigns_webvisit", "contact_id", "crm_contact"),
    ("crm_contact_tags", "contact_id", "crm_contact"),
    ("crm_contact_tags", "tag_id", "crm_tag"),
    ("crm_contactlist_contacts", "contact_id", "crm_contact"),
    ("crm_contactlist_contacts", "contactlist_id", "crm_contactlist"),
    ("crm_contactsource", "contact_id", "crm_contact"),
    ("crm_contactsource", "import_batch_id", "crm_importbatch"),
    ("crm_contactsource", "source_id", "crm_source"),
    ("crm_interaction", "contact_id", "crm_contact"),
    ("crm_invoice", "contact_id", "crm_contact"),
    ("privacy_breachsubject", "contact_id", "crm_contact"),
    ("privacy_consentevent", "contact_id", "crm_contact"),
    ("privacy_consentstate", "contact_id", "crm_contact"),
    ("privacy_consentstate", "last_event_id", "privacy_consentevent"),
    ("privacy_disclosure", "contact_id", "crm_contact"),
    ("privacy_noticedelivery", "contact_id", "crm_contact"),
    ("privacy_recipientsubject", "contact_id", "crm_contact"),
    ("privacy_subjectexport", "contact_id", "crm_contact"),
    ("privacy_subjectrequest", "contact_id", "crm_contact"),
]


def create_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_guard_sql(LINKS))


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(drop_guard_sql(LINKS))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0022_message_and_visit_contact_without_database_constraint"),
        ("crm", "0024_provenance_without_database_keys_to_source_and_batch"),
        ("privacy", "0027_ledger_and_request_links_without_database_constraint"),
    ]

    operations = [migrations.RunPython(create_guards, drop_guards)]
