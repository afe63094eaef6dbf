"""The privacy officer's breach screens: the 72-hour clock, the people affected, the notifications.

Imported by `privacy.admin` so the admin registers it. Every button calls a function of
`privacy.accountability.breaches`, so each step is checked and audited the same way whoever
triggers it. A breach is never deleted (art. 33(5)), and a closed one is read-only.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime, AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import form_page
from crm.models import Client, Company, Contact, Source
from privacy.accountability.breaches import (
    DESCRIPTION_FIELDS,
    add_affected_subjects,
    affected_by_addresses,
    affected_by_client,
    affected_by_company,
    affected_by_source,
    close_breach,
    deadline_status,
    mark_authority_notified,
    notify_subjects,
    record_breach,
    render_breach_notice,
    subject_counts,
    update_breach,
)
from privacy.models import Breach

STATE_FIELDS = (
    "deadline",
    "authority_notified_at",
    "authority_reference",
    "delay_reason",
    "affected_people",
    "closed_at",
    "created_at",
)


class BreachForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = DESCRIPTION_FIELDS

    def clean_detected_at(self):
        detected_at = self.cleaned_data["detected_at"]
        if detected_at > timezone.now():
            raise ValidationError("The detection time is in the future.")
        return detected_at


class AffectedPeopleForm(forms.Form):
    """One way to select the people affected: a source, a client's lists, a company, addresses."""

    source = forms.ModelChoiceField(
        queryset=Source.objects.select_related("client"),
        required=False,
        help_text="Everyone whose data came from this source.",
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.all(),
        required=False,
        help_text="Everyone whose data came from a list this client supplied.",
    )
    company = forms.ModelChoiceField(
        queryset=Company.objects.all(),
        required=False,
        widget=AutocompleteSelect(Contact._meta.get_field("company"), admin.site),
        help_text="Everyone who works for this company.",
    )
    addresses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        required=False,
        help_text="E-mail addresses, one a line or separated by commas or semicolons. "
        "Addresses that match no contact are counted, not stored.",
    )

    def clean(self):
        data = super().clean()
        chosen = [name for name in ("source", "client", "company", "addresses") if data.get(name)]
        if len(chosen) != 1:
            raise ValidationError("Choose exactly one: a source, a client, a company or addresses.")
        data["by"] = chosen[0]
        return data


class AuthorityNotifiedForm(forms.Form):
    at = forms.SplitDateTimeField(
        label="Told at", widget=AdminSplitDateTime, help_text="When the authority was told."
    )
    reference = forms.CharField(
        max_length=100, required=False, help_text="The authority's case number, if it gave one."
    )
    delay_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Required when the authority was told more than 72 hours after detection.",
    )


class CloseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Required when the authority was not told: why the breach is unlikely to "
        "result in a risk to people.",
    )


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("waiting", "Authority not told yet"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "waiting":
            return queryset.filter(closed_at__isnull=True, authority_notified_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Breach)
class BreachAdmin(admin.ModelAdmin):
    """Breaches, newest first, each with its 72-hour authority deadline counting down."""

    class Media:
        # Flags are coloured by class: the Content-Security-Policy allows no style attributes.
        css = {"all": ["privacy/admin.css"]}

    list_display = ("title", "detected_at", "high_risk", "deadline", "affected", "closed_at")
    list_filter = (OpenFilter, "high_risk")
    search_fields = ("title",)
    form = BreachForm
    change_form_template = "admin/privacy/breach/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(affected_count=Count("subjects"))

    def get_fields(self, request, obj=None):
        return DESCRIPTION_FIELDS if obj is None else (*DESCRIPTION_FIELDS, *STATE_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.closed_at is not None:
            return (*DESCRIPTION_FIELDS, *STATE_FIELDS)
        if obj.authority_notified_at is not None:
            # The authority was given this time; the deadline shown must not move after it.
            return ("detected_at", *STATE_FIELDS)
        return STATE_FIELDS

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.closed_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Art. 33(5): every breach stays documented.
        return False

    @admin.display(description="authority deadline")
    def deadline(self, obj):
        status = deadline_status(obj)
        if obj.authority_notified_at is not None or obj.closed_at is not None:
            return status
        if status.startswith("OVERDUE"):
            return format_html('<strong class="flag-alert">{}</strong>', status)
        soon = obj.authority_deadline - timezone.now() < timedelta(hours=24)
        return format_html('<strong class="{}">{}</strong>', "flag-warning" if soon else "", status)

    @admin.display(description="affected", ordering="affected_count")
    def affected(self, obj):
        return obj.affected_count

    @admin.display(description="affected people")
    def affected_people(self, obj):
        counts = subject_counts(obj)
        return (
            f"{counts.affected} affected: {counts.told} told, {counts.failed} could not be told "
            f"by e-mail (no address, bounced or failed), {counts.waiting} not told yet."
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            update_breach(breach=obj, actor=request.user, channel="admin", **data)
            return
        created = record_breach(
            actor=request.user,
            channel="admin",
            **{name: form.cleaned_data[name] for name in DESCRIPTION_FIELDS},
        )
        # The admin redirects to the object it saved: point it at the breach just recorded.
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def response_add(self, request, obj, post_url_continue=None):
        breach = Breach.objects.get(pk=obj.pk)
        due = timezone.localtime(breach.authority_deadline)
        self.message_user(
            request,
            f"Recorded. Tell the authority by {due:%d %b %Y %H:%M} ({deadline_status(breach)}); "
            "next, add the people affected.",
        )
        return redirect("admin:privacy_breach_change", breach.pk)

    def get_urls(self):
        def view(function, step):
            wrapped = self.admin_site.admin_view(function)
            return path(f"<int:pk>/{step}/", wrapped, name=f"privacy_breach_{step}")

        return [
            view(self.affected_view, "affected"),
            view(self.authority_view, "authority"),
            view(self.notify_view, "notify"),
            view(self.close_view, "close"),
            *super().get_urls(),
        ]

    def _breach(self, request: HttpRequest, pk: int) -> Breach:
        breach = self.get_object(request, str(pk))
        # The model permission, not the closed check: a closed breach gets the function's message.
        if breach is None or not super().has_change_permission(request, breach):
            raise PermissionDenied
        return breach

    def _page(
        self, request, breach, template: str, title: str, *, form=None, on_valid=None, **context
    ) -> HttpResponse:
        if form is not None:
            return form_page(
                self,
                request,
                form=form,
                template=f"admin/privacy/breach/{template}",
                title=f"{title}: {breach}",
                on_valid=on_valid,
                then=reverse("admin:privacy_breach_change", args=[breach.pk]),
                breach=breach,
                **context,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {breach}",
            "breach": breach,
            "opts": self.opts,
            **context,
        }
        return TemplateResponse(request, f"admin/privacy/breach/{template}", context)

    def _done(self, breach: Breach) -> HttpResponse:
        return redirect("admin:privacy_breach_change", breach.pk)

    def affected_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Add the people affected, selected by source, client, company or pasted addresses."""
        breach = self._breach(request, pk)
        form = AffectedPeopleForm(_posted(request))
        return self._page(
            request,
            breach,
            "affected.html",
            "Add affected people",
            form=form,
            on_valid=lambda data: self._add_affected(request, breach, data),
            media=self.media + form.media,
            counts=subject_counts(breach),
        )

    def _add_affected(self, request, breach: Breach, data: dict) -> str:
        by = data["by"]
        selection: dict = {"selected_by": by}
        unknown = invalid = 0
        if by == "addresses":
            match = affected_by_addresses(
                addresses=data["addresses"].replace(",", " ").replace(";", " ").split()
            )
            contacts = match.contacts
            unknown, invalid = match.unknown, match.invalid
            selection.update(addresses_unknown=unknown, addresses_invalid=invalid)
        elif by == "source":
            contacts = affected_by_source(source=data["source"])
            selection["source_id"] = data["source"].pk
        elif by == "client":
            contacts = affected_by_client(client=data["client"])
            selection["client_id"] = data["client"].pk
        else:
            contacts = affected_by_company(company=data["company"])
            selection["company_id"] = data["company"].pk
        found = contacts.count()
        added = add_affected_subjects(
            breach=breach,
            contacts=contacts,
            actor=request.user,
            channel="admin",
            selection=selection,
        )
        note = f"{added} people added as affected ({found - added} of those found already were)."
        if by == "addresses":
            note += (
                f" {unknown} address(es) matched no contact and {invalid} were not valid "
                "addresses; none of them was stored."
            )
        return note

    def authority_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Record that the supervisory authority was told, with the reasons for any delay."""
        breach = self._breach(request, pk)
        form = AuthorityNotifiedForm(_posted(request), initial={"at": timezone.now()})

        def notified(data: dict) -> str:
            mark_authority_notified(breach=breach, actor=request.user, channel="admin", **data)
            return f"The authority was told: {deadline_status(breach)}."

        return self._page(
            request,
            breach,
            "authority.html",
            "The authority was told",
            form=form,
            on_valid=notified,
            media=self.media + form.media,
            status=deadline_status(breach),
        )

    def notify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show what the people will receive and how many; mail them once the officer confirms."""
        breach = self._breach(request, pk)
        errors: list[str] = []
        if request.method == "POST":
            try:
                waiting = notify_subjects(breach=breach, actor=request.user, channel="admin")
            except ValidationError as exc:
                errors = exc.messages
            else:
                self.message_user(request, f"The e-mail is being sent to {waiting} people.")
                return self._done(breach)
        return self._page(
            request,
            breach,
            "notify.html",
            "Notify the people",
            counts=subject_counts(breach),
            preview=render_breach_notice(breach),
            errors=errors,
        )

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Close the breach once the authority and, for a high risk, the people were told."""
        breach = self._breach(request, pk)

        def close(data: dict) -> str:
            close_breach(breach=breach, actor=request.user, channel="admin", **data)
            return f"{breach} is closed; its record stays."

        return self._page(
            request,
            breach,
            "close.html",
            "Close",
            form=CloseForm(_posted(request)),
            on_valid=close,
            counts=subject_counts(breach),
        )


def _posted(request: HttpRequest):
    """Bind a form to what was posted, even to nothing at all (an empty post is still a post)."""
    return request.POST if request.method == "POST" else None
