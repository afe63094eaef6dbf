"""The orphan triggers cover the contacts' tag and list links too (core/orphans.py)."""

from django.db import migrations

from core.orphans import create_guard_sql, drop_guard_sql

# The links without a database constraint when this migration was written.
LINKS = [
    ("campaigns_message", "contact_id"),
    ("campaigns_webvisit", "contact_id"),
    ("crm_contact_tags", "contact_id"),
    ("crm_contactlist_contacts", "contact_id"),
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
EARLIER = [
    link for link in LINKS if link[0] not in {"crm_contact_tags", "crm_contactlist_contacts"}
]


def create_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_guard_sql(LINKS))


def restore_earlier_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(drop_guard_sql(LINKS))
        schema_editor.execute(create_guard_sql(EARLIER))


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0021_list_and_tag_links_without_database_constraint"),
        ("privacy", "0028_contact_orphan_guards"),
    ]

    operations = [migrations.RunPython(create_guards, restore_earlier_guards)]
