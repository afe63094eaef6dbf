"""Admin pieces every app shares, and the screens of the ground floor's own tables.

`ReadOnlyAdmin` is the one admin of an append-only record; `EstimatedCountPaginator` pages a big
table without an exact `COUNT(*)`. The audit trail and the task outbox are registered here.
"""

from functools import cached_property

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator

from core.counting import fast_count
from core.models import AuditEvent, OutboxTask


class ReadOnlyAdmin(admin.ModelAdmin):
    """An append-only ledger: nothing is added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInlineMixin:
    """An inline that shows records and never adds, changes or deletes one."""

    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EstimatedCountPaginator(Paginator):
    """Paginate without an exact COUNT(*) of a whole big table (see core.counting)."""

    @cached_property
    def count(self) -> int:
        return fast_count(self.object_list, exact_below=settings.ADMIN_EXACT_COUNT_LIMIT)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "channel")
    list_filter = ("action", "channel", "object_type")
    list_select_related = ("actor", "object_type")
    search_fields = ("=object_id", "=actor__username")
    date_hierarchy = "at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    """What waits for the broker, and why it was refused."""

    list_display = ("task", "created_at", "attempts", "last_error")
    list_filter = ("task",)
    readonly_fields = ("task", "args", "kwargs", "created_at", "attempts", "last_error")

    def has_delete_permission(self, request, obj=None):
        # An operator may drop a task that no worker knows any more.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)
