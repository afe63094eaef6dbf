"""On PostgreSQL, triggers stand in for the foreign keys of the links to contacts (core/orphans.py)."""

from django.db import migrations

from core.orphans import create_guard_sql, drop_guard_sql

# The links without a database constraint when this migration was written; a later migration
# that adds one recreates the triggers with the longer list.
LINKS = [
    ("campaigns_message", "contact_id"),
    ("campaigns_webvisit", "contact_id"),
    ("crm_contactsource", "contact_id"),
    ("crm_interaction", "contact_id"),
    ("crm_invoice", "contact_id"),
    ("privacy_breachsubject", "contact_id"),
    ("privacy_consentevent", "contact_id"),
    ("privacy_consentstate", "contact_id"),
    ("privacy_disclosure", "contact_id"),
    ("privacy_noticedelivery", "contact_id"),
    ("privacy_recipientsubject", "contact_id"),
    ("privacy_subjectexport", "contact_id"),
    ("privacy_subjectrequest", "contact_id"),
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
        ("crm", "0020_proof_links_to_contacts_without_database_constraint"),
        ("privacy", "0027_ledger_and_request_links_without_database_constraint"),
    ]

    operations = [migrations.RunPython(create_guards, drop_guards)]
