"""The privacy officer's queue of data-subject requests: intake by staff, decisions, deadlines."""

from datetime import timedelta
from pathlib import Path

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import EstimatedCountPaginator, form_page
from core.audit import record_audit
from core.models import AuditEvent
from crm.suppression import email_hash
from privacy.models import SubjectRequest
from privacy.requests.decisions import Decision, carry_out_decision, suggested_answer
from privacy.requests.exports import hide_download_links, may_handle_exports
from privacy.requests.subject_requests import check_staff_request, log_staff_request


class DeadlineFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("week", "Due within 7 days")]

    def queryset(self, request, queryset):
        if self.value() not in ("overdue", "week"):
            return queryset
        now = timezone.now()
        queryset = queryset.filter(status=SubjectRequest.Status.OPEN).annotate(
            deadline_at=Coalesce("extended_due_at", "due_at")
        )
        if self.value() == "overdue":
            return queryset.filter(deadline_at__lt=now)
        return queryset.filter(deadline_at__gte=now, deadline_at__lt=now + timedelta(days=7))


class StaffRequestForm(forms.ModelForm):
    """A request received by e-mail or letter, logged by the privacy officer."""

    channel = forms.ChoiceField(
        choices=[(SubjectRequest.Channel.EMAIL, "E-mail"), (SubjectRequest.Channel.POST, "Letter")]
    )

    class Meta:
        model = SubjectRequest
        fields = (
            "kind",
            "channel",
            "email",
            "received_at",
            "identity_check",
            "letter",
            "details",
            "purposes",
            "language",
            "wants_recipients",
        )

    def clean(self):
        """Check what `log_staff_request` requires, so a refusal shows next to its field."""
        data = super().clean()
        try:
            data["email"] = check_staff_request(
                email=data.get("email") or "",
                received_at=data.get("received_at"),
                identity_check=data.get("identity_check") or "",
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                if name not in self.errors:
                    self.add_error(name, errors)
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    months = forms.TypedChoiceField(
        choices=[(1, "1 month"), (2, "2 months")],
        coerce=int,
        required=False,
        help_text="Only for an extension.",
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="The answer, the reason for an extension, or the reason for a rejection. "
        "It is mailed to the requester.",
    )


@admin.register(SubjectRequest)
class SubjectRequestAdmin(admin.ModelAdmin):
    """The privacy officer's queue, nearest deadline first."""

    class Media:
        # Flags are coloured by class: the Content-Security-Policy allows no style attributes.
        css = {"all": ["privacy/admin.css"]}

    list_display = (
        "__str__",
        "status",
        "channel",
        "received_at",
        "deadline_flag",
        "possibly_excessive",
        "handler",
    )
    list_filter = (DeadlineFilter, "status", "kind", "channel", "possibly_excessive")
    list_select_related = ("handler",)
    search_fields = ("=id",)
    search_help_text = "A request number, or a full e-mail address (matched by its hash)."
    # By the deadline that applies: an extended request waits for its extended date.
    ordering = (Coalesce("extended_due_at", "due_at").asc(nulls_last=True), "received_at")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    change_form_template = "admin/privacy/subjectrequest/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StaffRequestForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return StaffRequestForm.Meta.fields
        return (
            "kind",
            "channel",
            "language",
            "status",
            "received_at",
            "verified_at",
            "due_at",
            "extended_due_at",
            "extension_reason",
            "possibly_excessive",
            "contact",
            "identity_check",
            "scanned_letter",
            "details",
            "purposes",
            "wants_recipients",
            "handler",
            "completed_at",
            "result" if may_handle_exports(request.user) else "result_without_links",
        )

    @admin.display(description="result")
    def result_without_links(self, obj):
        # The export holds invoices, disclosures and breaches this role may not see.
        return hide_download_links(obj.result)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        # Requests are the record of accountability; the retention rule removes old ones.
        return False

    @admin.display(description="deadline")
    def deadline_flag(self, obj):
        if obj.deadline is None:
            return "-"
        # Calendar days in local time, as the officer reads dates: due on Friday is "due in 3
        # days" on Tuesday, whatever the hour.
        due = timezone.localdate(obj.deadline)
        if obj.status != SubjectRequest.Status.OPEN:
            return due
        if obj.deadline < timezone.now():
            return format_html('<strong class="flag-alert">OVERDUE since {}</strong>', due)
        days = (due - timezone.localdate()).days
        if days == 0:
            return format_html('<strong class="flag-warning">{}</strong>', "due today")
        if days < 7:
            label = "due tomorrow" if days == 1 else f"due in {days} days"
            return format_html('<strong class="flag-warning">{}</strong>', label)
        return due

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            try:
                return queryset.filter(email_hash=email_hash(term)), False
            except ValidationError:
                return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = log_staff_request(
            kind=data["kind"],
            email=data["email"],
            channel=data["channel"],
            received_at=data["received_at"],
            identity_check=data["identity_check"],
            details=data["details"],
            letter=data.get("letter"),
            purposes=data.get("purposes", ()),
            language=data.get("language", ""),
            wants_recipients=data.get("wants_recipients", False),
            actor=request.user,
        )
        # The admin redirects to the object it saved: point it at the request just logged.
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change):
        # log_staff_request already set the purposes of a new request.
        if change:
            super().save_related(request, form, formsets, change)

    @admin.display(description="scanned letter")
    def scanned_letter(self, obj):
        if not obj.letter:
            return "-"
        url = reverse("admin:privacy_subjectrequest_letter", args=[obj.pk])
        return format_html('<a href="{}">Open the letter</a> (the opening is logged)', url)

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        letter = self.admin_site.admin_view(self.letter_view)
        return [
            path("<int:pk>/decide/", decide, name="privacy_subjectrequest_decide"),
            path("<int:pk>/letter/", letter, name="privacy_subjectrequest_letter"),
            *super().get_urls(),
        ]

    def letter_view(self, request, pk):
        """Hand the scanned letter to staff allowed to see the request, and log that they did."""
        subject_request = self.get_object(request, str(pk))
        if subject_request is None or not self.has_view_permission(request, subject_request):
            raise PermissionDenied
        if not subject_request.letter:
            raise Http404("This request has no scanned letter.")
        record_audit(
            actor=request.user,
            action=AuditEvent.Action.VIEWED,
            obj=subject_request,
            channel="admin",
            details={"letter": True},
        )
        return FileResponse(
            subject_request.letter.open("rb"),
            as_attachment=True,
            filename=f"request-{subject_request.pk}-letter"
            f"{Path(subject_request.letter.name).suffix}",
        )

    def decide_view(self, request, pk):
        """Carry out the officer's decision on an open request through the request functions."""
        subject_request = self.get_object(request, str(pk))
        if subject_request is None or not self.has_change_permission(request, subject_request):
            raise PermissionDenied

        def decide(data: dict) -> str:
            carry_out_decision(request=subject_request, actor=request.user, **data)
            return f"{subject_request}: done, the requester is told."

        return form_page(
            self,
            request,
            form=DecisionForm(
                request.POST or None, initial={"text": suggested_answer(request=subject_request)}
            ),
            template="admin/privacy/subjectrequest/decide.html",
            title=f"Decide on {subject_request}",
            on_valid=decide,
            then=reverse("admin:privacy_subjectrequest_change", args=[subject_request.pk]),
            subject_request=subject_request,
        )
