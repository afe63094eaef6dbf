"""The privacy officer's registers: record of processing, processors, disclosures to authorities.

Imported by `privacy.admin` so the admin registers it. The rules live in
`privacy.accountability.registers`: the forms ask `check_transfer` so that a transfer outside the
EU without a safeguard is refused next to its field, and disclosures are saved through
`save_disclosure`, which audits them.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from privacy.accountability.registers import check_transfer, save_disclosure, without_safeguard
from privacy.models import Disclosure, ProcessingActivity, Processor

EXPORT_PERMISSION = "privacy.view_processingactivity"


def export_links(request: HttpRequest) -> dict:
    """Return the change list's extra context: links to the register documents, if allowed."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        return {}
    documents = (
        ("record.html", "readable document (HTML)"),
        ("activities.csv", "activities (CSV)"),
        ("processors.csv", "processors (CSV)"),
    )
    links = format_html_join(
        " · ",
        '<a href="{}">{}</a>',
        ((reverse("privacy-register-export", args=[name]), label) for name, label in documents),
    )
    return {"subtitle": format_html("Export the register: {}", links)}


def missing_safeguard(text: str = "No safeguard: transfer not allowed") -> str:
    """Return the red flag shown in a list for a transfer outside the EU without a safeguard."""
    return format_html('<strong class="flag-alert">{}</strong>', text)


class TransferFilter(admin.SimpleListFilter):
    """Filter rows by where the data goes: inside the EU, or outside with or without safeguard."""

    title = "transfer outside the EU"
    parameter_name = "transfer"
    flag = "outside_eu"
    safeguard = "safeguard"

    def lookups(self, request, model_admin):
        return [
            ("none", "Stays in the EU"),
            ("safeguarded", "Outside the EU, with a safeguard"),
            ("missing", "Outside the EU, no safeguard"),
        ]

    def queryset(self, request, queryset):
        missing = without_safeguard(queryset, flag=self.flag, safeguard=self.safeguard)
        if self.value() == "none":
            return queryset.filter(**{self.flag: False})
        if self.value() == "safeguarded":
            return queryset.filter(**{self.flag: True}).exclude(pk__in=missing.values("pk"))
        if self.value() == "missing":
            return missing
        return queryset


class ActivityTransferFilter(TransferFilter):
    flag = "transfer_outside_eu"
    safeguard = "transfer_safeguard"


class TransferSafeguardForm(forms.ModelForm):
    """Refuse a transfer outside the EU without a safeguard (art. 44-46), next to its field."""

    outside_field: str
    safeguard_field: str

    def clean(self):
        data = super().clean()
        try:
            check_transfer(
                outside_eu=bool(data.get(self.outside_field)),
                safeguard=data.get(self.safeguard_field) or "",
                flag=self.fields[self.outside_field].label,
                field=self.safeguard_field,
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class ProcessingActivityForm(TransferSafeguardForm):
    outside_field, safeguard_field = "transfer_outside_eu", "transfer_safeguard"

    class Meta:
        model = ProcessingActivity
        fields = (
            "name",
            "purposes",
            "is_public",
            "data_subjects",
            "data_categories",
            "recipients",
            "access",
            "storage",
            "retention",
            "transfer_outside_eu",
            "transfer_country",
            "transfer_safeguard",
            "translations",
        )
        labels = {"transfer_outside_eu": "Transfer outside the EU"}


class ProcessorForm(TransferSafeguardForm):
    outside_field, safeguard_field = "outside_eu", "safeguard"

    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Processor
        fields = (
            "name",
            "service",
            "data_shared",
            "location",
            "outside_eu",
            "safeguard",
            "agreement_signed_on",
            "website",
            "privacy_contact",
        )
        labels = {"outside_eu": "Outside the EU"}


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(admin.ModelAdmin):
    """The record of processing activities (art. 30(1)); public rows appear on /privacy/."""

    class Media:
        # Flags are coloured by class: the Content-Security-Policy allows no style attributes.
        css = {"all": ["privacy/admin.css"]}

    form = ProcessingActivityForm
    list_display = (
        "name",
        "purpose_list",
        "data_subjects",
        "retention",
        "transfer",
        "is_public",
        "updated_at",
    )
    list_filter = ("is_public", ActivityTransferFilter, "purposes")
    search_fields = ("name",)
    filter_horizontal = ("purposes",)
    fieldsets = (
        (None, {"fields": ("name", "purposes", "is_public")}),
        (
            "What, whose, and who sees it",
            {"fields": ("data_subjects", "data_categories", "recipients", "access")},
        ),
        ("Where and how long", {"fields": ("storage", "retention")}),
        (
            "Transfer outside the EU",
            {"fields": ("transfer_outside_eu", "transfer_country", "transfer_safeguard")},
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("purposes")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**export_links(request), **(extra_context or {})})

    @admin.display(description="purposes (legal basis)")
    def purpose_list(self, obj):
        return format_html_join(
            mark_safe("<br>"),
            "{} ({})",
            ((p.name, p.get_legal_basis_display()) for p in obj.purposes.all()),
        )

    @admin.display(description="transfer outside the EU")
    def transfer(self, obj):
        if not obj.transfer_outside_eu:
            return "No"
        if not obj.transfer_safeguard.strip():
            return missing_safeguard()
        return f"{obj.transfer_country or 'Yes'}: {obj.transfer_safeguard}"


@admin.register(Processor)
class ProcessorAdmin(admin.ModelAdmin):
    """The processor register: who processes data for us, where, and under which safeguard."""

    class Media:
        # Flags are coloured by class: the Content-Security-Policy allows no style attributes.
        css = {"all": ["privacy/admin.css"]}

    form = ProcessorForm
    list_display = (
        "name",
        "service",
        "location",
        "outside_eu",
        "transfer_safeguard",
        "agreement",
    )
    list_filter = ("outside_eu", TransferFilter)
    search_fields = ("name", "service")
    fields = (
        "name",
        "service",
        "data_shared",
        "location",
        "outside_eu",
        "safeguard",
        "agreement_signed_on",
        "website",
        "privacy_contact",
    )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**export_links(request), **(extra_context or {})})

    @admin.display(description="safeguard")
    def transfer_safeguard(self, obj):
        if not obj.outside_eu:
            return "-"
        return obj.safeguard if obj.safeguard.strip() else missing_safeguard()

    @admin.display(description="agreement signed on", ordering="agreement_signed_on")
    def agreement(self, obj):
        # Art. 28(3): processing on our behalf needs a signed contract; privacy_check fails too.
        if obj.agreement_signed_on is None:
            return format_html('<strong class="flag-alert">{}</strong>', "NO SIGNED AGREEMENT")
        return obj.agreement_signed_on


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    """The log of disclosures to authorities, each with its legal ground (art. 6(1)(c))."""

    list_display = ("disclosed_on", "authority", "legal_ground", "reference", "handled_by")
    list_select_related = ("handled_by",)
    search_fields = ("authority", "=reference")
    date_hierarchy = "disclosed_on"
    raw_id_fields = ("contact",)
    fields = (
        "authority",
        "legal_ground",
        "reference",
        "disclosed_on",
        "contact",
        "data_given",
        "handled_by",
        "created_at",
    )
    readonly_fields = ("handled_by", "created_at")

    def has_delete_permission(self, request, obj=None):
        # The log is the proof of what was handed over and why; it is not edited away.
        return False

    def save_model(self, request, obj, form, change):
        save_disclosure(disclosure=obj, actor=request.user, changed_fields=form.changed_data)
