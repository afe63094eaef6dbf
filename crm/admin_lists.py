"""Static lists of contacts: named, filled by hand or with the contact list's bulk actions."""

from django.contrib import admin
from django.db.models import Count

from crm.models import ContactList


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "members", "created_at")
    search_fields = ("name",)
    fields = ("name", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("contacts"))

    @admin.display(description="contacts", ordering="member_count")
    def members(self, obj) -> int:
        return obj.member_count
