"""The consent side of the contact page: the derived state, the ledger's proof, a staff record.

The CRM's contact admin knows nothing of consent; the privacy layer extends it here with the
consent filter, the two ledger inlines and the page where staff record a consent given on the
phone or on paper (`admin:crm_contact_record_consent`).
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.urls import path, reverse

from core.admin import ReadOnlyInlineMixin, form_page
from crm import admin as crm_admin
from crm.models import Contact
from privacy.admin.bulk import BulkActionsMixin
from privacy.admin.merging import MergeAdminMixin
from privacy.consent.ledger import record_consent
from privacy.models import ConsentEvent, ConsentState, Purpose


class ConsentFilter(admin.SimpleListFilter):
    """Contacts by their current consent for one purpose: the audience question."""

    title = "consent"
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        purposes = Purpose.objects.filter(legal_basis=Purpose.LegalBasis.CONSENT, is_active=True)
        return [
            (f"{purpose.code}:{status}", f"{purpose.name}: {label.lower()}")
            for purpose in purposes
            for status, label in ConsentEvent.Action.choices
        ]

    def queryset(self, request, queryset):
        code, _, status = (self.value() or "").partition(":")
        if not code:
            return queryset
        states = ConsentState.objects.filter(
            contact=OuterRef("pk"), purpose__code=code, status=status
        )
        return queryset.filter(Exists(states))


class StaffConsentForm(forms.Form):
    """A consent given to staff, with what was said and where the record is filed."""

    purpose = forms.ModelChoiceField(queryset=Purpose.objects.filter(is_active=True))
    action = forms.ChoiceField(choices=ConsentEvent.Action.choices)
    channel = forms.ChoiceField(
        choices=[
            (ConsentEvent.Channel.STAFF_PHONE, ConsentEvent.Channel.STAFF_PHONE.label),
            (ConsentEvent.Channel.STAFF_PAPER, ConsentEvent.Channel.STAFF_PAPER.label),
        ]
    )
    wording = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The exact sentence read to the person or printed on the form.",
    )
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who gave it, when, and where the call note or signed paper is filed.",
    )


class ConsentStateInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ConsentState
    verbose_name_plural = "current consent per purpose (derived from the ledger)"
    fields = ("purpose", "status", "since")
    readonly_fields = fields


class ConsentEventInline(ReadOnlyInlineMixin, admin.StackedInline):
    """The proof of every consent decision: wording, notice version, channel, time."""

    model = ConsentEvent
    verbose_name_plural = "consent ledger (proof)"
    fields = (
        ("occurred_at", "purpose", "action", "channel"),
        "wording",
        ("notice_version", "recorded_by"),
        ("language", "recorded_at", "backdate_reason"),
        "evidence",
        "user_agent",
    )
    readonly_fields = (
        "occurred_at",
        "language",
        "recorded_at",
        "backdate_reason",
        "purpose",
        "action",
        "channel",
        "wording",
        "notice_version",
        "recorded_by",
        "evidence",
        "user_agent",
    )


admin.site.unregister(Contact)


@admin.register(Contact)
class ContactAdmin(BulkActionsMixin, MergeAdminMixin, crm_admin.ContactAdmin):
    """The CRM's contact page with the person's consent (filter, state, proof), merge and bulk."""

    actions = (*crm_admin.ContactAdmin.actions, "merge_two", *BulkActionsMixin.bulk_actions)
    list_filter = (
        *crm_admin.ContactAdmin.list_filter[:3],
        ConsentFilter,
        *crm_admin.ContactAdmin.list_filter[3:],
    )
    inlines = (
        *crm_admin.ContactAdmin.inlines[:2],
        ConsentStateInline,
        ConsentEventInline,
        *crm_admin.ContactAdmin.inlines[2:],
    )

    def get_urls(self):
        record = self.admin_site.admin_view(self.record_consent_view)
        return [
            path("<int:contact_id>/record-consent/", record, name="crm_contact_record_consent"),
            *super().get_urls(),
        ]

    def record_consent_view(self, request, contact_id):
        """Let staff record a consent given on the phone or on paper, with its evidence."""
        contact = self.get_object(request, str(contact_id))
        if contact is None or not request.user.has_perm("privacy.add_consentevent"):
            raise PermissionDenied

        def record(data: dict) -> str:
            record_consent(contact=contact, recorded_by=request.user, **data)
            return "The consent decision is recorded in the ledger."

        return form_page(
            self,
            request,
            form=StaffConsentForm(request.POST or None),
            template="admin/crm/contact/record_consent.html",
            title=f"Record a consent decision for {contact}",
            on_valid=record,
            then=reverse("admin:crm_contact_change", args=[contact.pk]),
            contact=contact,
        )
