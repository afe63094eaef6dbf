"""The privacy officer's screens: the audit trail, read-only."""

from django.contrib import admin

from crm.admin import EstimatedCountPaginator
from privacy.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "channel")
    list_filter = ("action", "channel", "object_type")
    list_select_related = ("actor", "object_type")
    search_fields = ("=object_id", "=actor__username")
    date_hierarchy = "at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
