"""On PostgreSQL, a trigger refuses deleting contacts that unconstrained links still point at."""

from django.db import migrations

from core.orphans import DROP_GUARD_SQL, create_guard_sql

# The links without a database constraint when this migration was written (core/orphans.py);
# a later migration that adds one recreates the trigger with the longer list.
LINKS = [
    ("campaigns_message", "contact_id"),
    ("campaigns_webvisit", "contact_id"),
    ("privacy_breachsubject", "contact_id"),
    ("privacy_consentstate", "contact_id"),
    ("privacy_disclosure", "contact_id"),
    ("privacy_noticedelivery", "contact_id"),
    ("privacy_recipientsubject", "contact_id"),
    ("privacy_subjectexport", "contact_id"),
]


def create_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(create_guard_sql(LINKS))


def drop_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_GUARD_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0022_message_and_visit_contact_without_database_constraint"),
        ("privacy", "0026_bookkeeping_contact_links_without_database_constraint"),
    ]

    operations = [migrations.RunPython(create_guard, drop_guard)]
