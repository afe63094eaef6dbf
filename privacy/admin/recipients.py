"""Who received whose data (art. 19): each hand-over to a recipient and the people it covered."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin
from privacy.models import RecipientBatch, RecipientSubject


class RecipientSubjectInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = RecipientSubject
    fields = ("contact", "created_at")
    readonly_fields = fields
    raw_id_fields = ("contact",)
    verbose_name = "person covered"
    verbose_name_plural = "people covered"


@admin.register(RecipientBatch)
class RecipientBatchAdmin(ReadOnlyAdmin):
    """The record of hand-overs, written by the API, list sharing and webhook deliveries."""

    list_display = ("created_at", "recipient", "kind", "description", "people", "created_by")
    list_filter = ("kind", "recipient")
    list_select_related = ("recipient", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = ("recipient", "kind", "description", "reference", "people", "created_at")
    exclude = ("created_by",)
    inlines = (RecipientSubjectInline,)
