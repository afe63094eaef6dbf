"""Read-only admin of the task outbox: what waits for the broker, and why it was refused."""

from django.contrib import admin

from config.models import OutboxTask


@admin.register(OutboxTask)
class OutboxTaskAdmin(admin.ModelAdmin):
    list_display = ("task", "created_at", "attempts", "last_error")
    list_filter = ("task",)
    readonly_fields = ("task", "args", "kwargs", "created_at", "attempts", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
