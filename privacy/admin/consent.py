"""The privacy officer's screens of purposes, notice versions, the consent ledger, suppression and
the legal basis of tracking per sender.

Ledgers are read-only here: consent events are appended by the functions that make the change,
never typed in or edited.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.defaultfilters import pluralize
from django.urls import path

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin, form_page
from crm.models import Suppression
from crm.suppression import email_hash
from privacy.accountability.indirect_notices import contacts_awaiting_notice, send_due_notices_now
from privacy.admin.translated import translated_form
from privacy.consent.notices import publish_notice
from privacy.consent.tracking import set_tracking_basis
from privacy.models import ConsentEvent, NoticeVersion, Purpose, TrackingBasis


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    # A consent sentence is agreed to in the reader's language: each one is required.
    form = translated_form(
        Purpose, ("name", "description", "consent_text"), required=("consent_text",)
    )
    list_display = ("name", "code", "legal_basis", "is_active")
    list_filter = ("legal_basis", "is_active")
    search_fields = ("name", "code")

    def get_readonly_fields(self, request, obj=None):
        # The code is referenced by forms, the API and the ledger: fixed once created.
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        # Ledger entries refer to purposes; retire one with "is active" instead.
        return False


@admin.register(NoticeVersion)
class NoticeVersionAdmin(admin.ModelAdmin):
    # Left blank, a language blocks publishing (publish_notice), not the draft.
    form = translated_form(NoticeVersion, ("title", "body", "summary_of_changes"))
    list_display = ("version", "title", "effective_at", "is_material_change", "published_at")
    readonly_fields = ("published_at",)
    actions = ("publish",)

    def has_change_permission(self, request, obj=None):
        # A published version is what people read and agreed under: it is never rewritten.
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        page = self.admin_site.admin_view(self.indirect_notices)
        extra = [path("indirect-notices/", page, name="privacy_indirect_notices")]
        return extra + super().get_urls()

    def indirect_notices(self, request):
        """Show how many art. 14 notices wait for 09:00, and send them now on request."""
        if not self.has_change_permission(request):
            raise PermissionDenied

        def send(cleaned_data) -> str:
            waiting = send_due_notices_now(actor=request.user)
            if not waiting:
                return "No art. 14 notice is due: nobody from an indirect source waits for one."
            people = pluralize(waiting, "person,people")
            return f"Sending the art. 14 notice to {waiting} {people} now."

        return form_page(
            self,
            request,
            form=forms.Form(request.POST if request.method == "POST" else None),
            template="admin/privacy/indirect_notices.html",
            title="Art. 14 notices",
            on_valid=send,
            waiting=contacts_awaiting_notice().count(),
        )

    @admin.action(description="Publish the selected versions (mails a material change)")
    def publish(self, request, queryset):
        for notice in queryset:
            try:
                publish_notice(notice=notice, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
            else:
                note = " The notice of change is being mailed." if notice.is_material_change else ""
                self.message_user(request, f"Version {notice.version} is published.{note}")


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "contact", "purpose", "action", "channel", "notice_version")
    list_filter = ("purpose", "action", "channel")
    list_select_related = ("contact", "purpose", "notice_version")
    search_fields = ("=contact__id", "contact__email")
    paginator = EstimatedCountPaginator
    show_full_result_count = False


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "reason", "client", "lifted_at", "lift_reason")
    list_filter = ("reason", "client", ("lifted_at", admin.EmptyFieldListFilter))
    list_select_related = ("client",)
    search_fields = ("email_hash",)
    search_help_text = "Type a full e-mail address: it is hashed and matched, never stored."
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(email_hash=email_hash(term)), False
        except ValidationError:
            return queryset.none(), False


@admin.register(TrackingBasis)
class TrackingBasisAdmin(admin.ModelAdmin):
    """The privacy officer's legal basis per sender for opens, clicks and web visits."""

    list_display = ("__str__", "email_tracking", "web_activity", "updated_at")
    list_select_related = ("client",)
    fields = ("client", "email_tracking", "web_activity")

    def get_readonly_fields(self, request, obj=None):
        # The sender is what the row is about: fixed once chosen.
        return ("client",) if obj else ()

    def save_model(self, request, obj, form, change):
        saved = set_tracking_basis(
            client=obj.client,
            email_tracking=obj.email_tracking,
            web_activity=obj.web_activity,
            actor=request.user,
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        # No row means consent: set the basis back to consent instead, which is audited.
        return False
