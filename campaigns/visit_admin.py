"""Web visits on the contact's page: the pages viewed and files downloaded after a tracked click.

The contact admin of the privacy layer (consent state and proof) gets one more read-only section
here, newest first; visits are records written by the tracking flush, never typed in.
"""

from django.contrib import admin

from campaigns.models import WebVisit
from core.admin import ReadOnlyInlineMixin
from crm.models import Contact
from privacy.admin import contacts as privacy_contacts


class WebVisitInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = WebVisit
    verbose_name_plural = "web visits after a click (cookie banner accepted)"
    fields = ("occurred_at", "kind", "host", "path", "title", "referrer_domain", "campaign")
    readonly_fields = fields
    ordering = ("-occurred_at",)


admin.site.unregister(Contact)


@admin.register(Contact)
class ContactAdmin(privacy_contacts.ContactAdmin):
    """The contact page with consent and the person's web visits after a click."""

    inlines = (*privacy_contacts.ContactAdmin.inlines, WebVisitInline)
