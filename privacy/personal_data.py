"""Declare the platform's own models (Django's and this app's) in the personal-data registry."""

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from privacy.models import AuditEvent
from privacy.registry import Delete, registry


def _admin_log_rows(contact_ids: list[int]) -> QuerySet:
    """Return admin log entries about the contacts: their titles repeat the person's name."""
    from crm.models import Contact

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact),
        object_id__in=[str(pk) for pk in contact_ids],
    )


registry.declare(
    LogEntry,
    category="staff_activity",
    description="Django admin's change history, whose entry titles name the person.",
    rows=_admin_log_rows,
    fields=("object_repr", "change_message"),
    export_fields=("action_time", "action_flag"),
    erasure=Delete(),
)
registry.exempt(
    get_user_model(),
    reason="Staff accounts: employees' data under their employment, managed by administrators; "
    "not data subjects of the CRM.",
)
registry.exempt(
    AuditEvent,
    reason="Ids, actions and field names only, never values; kept for accountability (art. 5(2)).",
)
