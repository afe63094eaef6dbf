"""The contact page's timeline and possible duplicates, and the full timeline page.

A mixin of the contact admin: the page itself logs the view of the record (one audit event), the
full timeline page logs its own reading once per page shown.
"""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from core.admin import EstimatedCountPaginator
from crm.duplicates import duplicate_candidates, with_possible_duplicates
from crm.models import Contact
from crm.timeline import contact_timeline, record_timeline_view

# Entries shown on the contact page itself; the rest are one click away.
ON_PAGE = 10


class PossibleDuplicatesFilter(admin.SimpleListFilter):
    """The "possible duplicates" list: contacts sharing a phone, or a name at one company."""

    title = "duplicates"
    parameter_name = "duplicates"

    def lookups(self, request, model_admin):
        return [("possible", "Possible duplicates")]

    def queryset(self, request, queryset):
        if self.value() == "possible":
            return with_possible_duplicates(queryset)
        return queryset


def live_contacts(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """Leave out the records merged into others: the list shows the surviving ones."""
    return queryset.filter(merged_into__isnull=True)


class LiveContactsPaginator(EstimatedCountPaginator):
    """Page the live contacts; unfiltered, their count is the table's estimate ("about N")."""

    @staticmethod
    def whole_list() -> QuerySet[Contact]:
        return live_contacts(Contact.objects.all())


class LiveContactsChangeList(ChangeList):
    """The contact list without the records merged into others (their page leads on)."""

    def get_queryset(self, request, exclude_parameters=None):
        return live_contacts(super().get_queryset(request, exclude_parameters))


class TimelineAdminMixin:
    """Add the timeline and the possible duplicates to the contact admin."""

    def get_changelist(self, request, **kwargs):
        return LiveContactsChangeList

    def get_urls(self):
        view = self.admin_site.admin_view(self.timeline_view)
        return [
            path("<int:contact_id>/timeline/", view, name="crm_contact_timeline"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        contact = self.get_object(request, object_id) if request.method == "GET" else None
        if contact is not None and contact.merged_into_id is not None:
            messages.info(request, f"Contact #{contact.pk} was merged into this record.")
            return redirect("admin:crm_contact_change", contact.merged_into_id)
        if contact is not None and self.has_view_permission(request, contact):
            extra_context = {
                **(extra_context or {}),
                "timeline": contact_timeline(contact=contact, user=request.user, size=ON_PAGE),
                "duplicates": duplicate_candidates(contact),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def timeline_view(self, request, contact_id):
        """Show the person's whole timeline, newest first, by kind and page; logged once."""
        contact = self.get_object(request, str(contact_id))
        if contact is None or not self.has_view_permission(request, contact):
            raise PermissionDenied
        kind = request.GET.get("kind", "")
        try:
            page = int(request.GET.get("page", "1"))
        except ValueError:
            page = 1
        timeline = contact_timeline(contact=contact, user=request.user, kind=kind, page=page)
        record_timeline_view(contact=contact, actor=request.user, channel="admin", kind=kind)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Timeline of {contact}",
            "opts": self.opts,
            "contact": contact,
            "timeline": timeline,
            "kind": kind,
        }
        return TemplateResponse(request, "admin/crm/contact/timeline.html", context)
