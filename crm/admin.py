"""The marketing staff's screens: contacts with provenance and interactions, companies, clients."""

from datetime import timedelta
from functools import lru_cache

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import get_language
from django_countries import countries

from core.admin import EstimatedCountPaginator, PlainActionCheckboxMixin, ReadOnlyInlineMixin
from core.counting import distinct_values
from crm.admin_lists import ContactListAdmin  # noqa: F401 -- registers it
from crm.admin_timeline import (
    LiveContactsPaginator,
    PossibleDuplicatesFilter,
    TimelineAdminMixin,
)
from crm.companies import COMPANY_FIELDS, normalise_company, save_company
from crm.contact_form import confirm_sender, is_unverified, mark_answered
from crm.contacts import (
    check_not_suppressed,
    find_duplicate,
    normalise_contact,
    record_contact_view,
    save_contact,
)
from crm.exports_csv import REASON_MAX_LENGTH, export_contacts_csv
from crm.imports.admin import ImportBatchAdmin, ImportRejectionAdmin  # noqa: F401 -- registers them
from crm.interactions import delete_interaction, save_interaction
from crm.invoices import record_invoice_view
from crm.models import Client, Company, Contact, ContactSource, Interaction, Invoice, Source
from crm.provenance import ensure_provenance, save_provenance
from crm.search import search_contacts

# A website typed without a scheme is read as https (Django 6's default, chosen now).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


@admin.display(description="country", ordering="country")
def country_name(obj) -> str:
    """Show the country's name without the admin rebuilding 250 choices for every cell."""
    country = obj.country  # a new object at every read
    return _country_name(country.code, get_language()) if country else ""


@lru_cache(maxsize=2048)
def _country_name(code: str, language: str | None) -> str:
    """Return a country's name in the active language, looked up once per code and language."""
    # Looking the name up through its translation was a tenth of rendering a page of contacts.
    return countries.name(code)


class CountryInUseFilter(admin.SimpleListFilter):
    """Offer only the countries that contacts actually have, not all 250."""

    title = "country"
    parameter_name = "country"
    cache_key = "crm:contact-countries"

    def lookups(self, request, model_admin):
        codes = cache.get(self.cache_key)
        if codes is None:
            codes = distinct_values(Contact, "country")
            cache.set(self.cache_key, codes, 600)
        return sorted(((code, countries.name(code)) for code in codes), key=lambda c: c[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(country=self.value())
        return queryset


class SourceKindFilter(admin.SimpleListFilter):
    """Contacts with at least one provenance record of the chosen kind."""

    title = "source kind"
    parameter_name = "source_kind"

    def lookups(self, request, model_admin):
        return Source.Kind.choices

    def queryset(self, request, queryset):
        if self.value():
            provenance = ContactSource.objects.filter(
                contact=OuterRef("pk"), source__kind=self.value()
            )
            return queryset.filter(Exists(provenance))
        return queryset


class LastActivityFilter(admin.SimpleListFilter):
    """Contacts by how long ago the person last did something themselves."""

    title = "last activity"
    parameter_name = "activity"
    ranges = {
        "30d": ("In the last 30 days", timedelta(days=30), None),
        "1y": ("In the last year", timedelta(days=365), None),
        "over1y": ("More than a year ago", None, timedelta(days=365)),
        "over2y": ("More than two years ago", None, timedelta(days=730)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in self.ranges.items()] + [("never", "Never")]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(last_activity_at__isnull=True)
        if self.value() in self.ranges:
            _, within, older = self.ranges[self.value()]
            now = timezone.now()
            if within:
                return queryset.filter(last_activity_at__gte=now - within)
            return queryset.filter(last_activity_at__lt=now - older)
        return queryset


class ContactAdminForm(forms.ModelForm):
    """Normalise e-mail, phone and country and point at the existing contact on a duplicate."""

    # Plain text: core.normalisation decides what an address is (it takes `Name <addr>` too).
    email = forms.CharField(label="E-mail", max_length=320, required=False)

    class Meta:
        model = Contact
        # The admin's fieldsets decide the fields shown; these are the ones clean() needs.
        fields = ("email", "phone", "country", "birth_date")

    def clean(self):
        data = super().clean()
        probe = Contact(
            pk=self.instance.pk,
            email=data.get("email"),
            phone=data.get("phone", ""),
            country=data.get("country", ""),
            birth_date=data.get("birth_date"),
            company=data.get("company"),
        )
        try:
            normalise_contact(probe)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
            return data
        data.update(email=probe.email, phone=probe.phone, country=probe.country)
        if probe.email and probe.email != self.instance.email:
            try:
                check_not_suppressed(probe.email)
            except ValidationError as exc:
                self.add_error("email", exc.error_dict["email"])
                return data
        duplicate = find_duplicate(email=probe.email, exclude_pk=self.instance.pk)
        if duplicate is not None:
            link = format_html(
                'A contact with this e-mail address already exists: <a href="{}">{} (#{})</a>.',
                reverse("admin:crm_contact_change", args=[duplicate.pk]),
                duplicate,
                duplicate.pk,
            )
            self.add_error("email", ValidationError(link, code="duplicate"))
        return data


class ExportReasonForm(forms.Form):
    """Why contacts are exported in bulk: asked every time, kept in the audit trail."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: guest list for the Utrecht fair, asked by the sales manager. "
        "It is kept in the audit trail with the ids of the contacts exported.",
    )


class ContactSourceInline(admin.TabularInline):
    model = ContactSource
    extra = 0
    # Provenance is the record of where data came from: erasure removes it, staff do not.
    can_delete = False
    fields = ("source", "collected_at", "reference", "collected_by", "informed_at")
    raw_id_fields = ("collected_by",)


@admin.display(description="sender")
def sender_check(interaction: Interaction) -> str:
    """Say whether a contact-form message's sender is proven, so nobody takes it on trust."""
    if interaction.kind != Interaction.Kind.CONTACT_FORM:
        return "-"
    if is_unverified(interaction):
        return "Unverified: anyone can type an address into the form"
    return "Confirmed by staff" if interaction.confirmed_at else "Answered"


class InteractionInline(admin.StackedInline):
    model = Interaction
    extra = 0
    fields = (("kind", "occurred_at", "staff"), sender_check, "subject", "body")
    readonly_fields = (sender_check,)
    raw_id_fields = ("staff",)


class InvoiceInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The person's invoices: they come from the billing system through the API."""

    model = Invoice
    fields = ("number", "issued_on", "due_on", "amount", "currency", "hold_until")
    readonly_fields = fields


@admin.register(Contact)
class ContactAdmin(PlainActionCheckboxMixin, TimelineAdminMixin, admin.ModelAdmin):
    form = ContactAdminForm
    list_display = (
        "__str__",
        "email",
        "company",
        country_name,
        "relationship",
        "last_activity_at",
    )
    list_select_related = ("company",)
    list_filter = (
        CountryInUseFilter,
        "relationship",
        SourceKindFilter,
        LastActivityFilter,
        "email_status",
        "is_restricted",
        PossibleDuplicatesFilter,
    )
    search_fields = ("email",)
    search_help_text = "Beginning of an e-mail address, first or last name, or company name."
    paginator = LiveContactsPaginator
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ("company",)
    readonly_fields = ("last_activity_at", "created_at", "updated_at", "erasure_status")
    inlines = (
        ContactSourceInline,
        InteractionInline,
        InvoiceInline,
    )
    change_form_template = "admin/crm/contact/change_form.html"
    actions = ("export_csv",)
    fieldsets = (
        (
            None,
            {"fields": (("first_name", "last_name"), "email", "phone", "language", "birth_date")},
        ),
        ("Work", {"fields": ("company", "job_title", "country", "relationship", "owner")}),
        (
            "Status",
            {
                "fields": (
                    "email_status",
                    "is_restricted",
                    "last_activity_at",
                    "created_at",
                    "updated_at",
                    "erasure_status",
                )
            },
        ),
    )

    @admin.display(description="erasure")
    def erasure_status(self, obj):
        """Say why an erased person's row is still here: invoices under their legal hold."""
        if obj is None or obj.anonymised_at is None:
            return "-"
        held = obj.invoices.filter(hold_until__gte=timezone.localdate()).order_by("-hold_until")
        last = held.first()
        on = timezone.localtime(obj.anonymised_at)  # the day as staff count it, not UTC's
        if last is None:
            return f"Anonymised on {on:%Y-%m-%d}; the row goes at the next purge."
        return (
            f"Anonymised on {on:%Y-%m-%d}, not deleted: {held.count()} invoice(s) "
            f"must be kept until {last.hold_until:%Y-%m-%d} (billing records, legal hold)."
        )

    def has_change_permission(self, request, obj=None):
        # An erased person's anonymised row is kept for their invoices' legal hold, not edited.
        if obj is not None and obj.anonymised_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # Restriction (art. 18) is the privacy officer's decision: others see it, not lift it.
        fields = super().get_readonly_fields(request, obj)
        if not request.user.has_perm("privacy.change_subjectrequest"):
            fields = (*fields, "is_restricted")
        return fields

    def get_inlines(self, request, obj):
        # A new contact has no consent yet; consent is recorded from its page once it exists.
        if obj is None:
            return (ContactSourceInline, InteractionInline)
        return self.inlines

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return search_contacts(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        save_contact(
            contact=obj, actor=request.user, channel="admin", changed_fields=form.changed_data
        )

    def save_formset(self, request, form, formset, change):
        # Each inline row goes through its service, which fills its defaults and audits it.
        formset.save(commit=False)
        for obj in formset.new_objects:
            _save_inline_row(obj, actor=request.user, fields=())
        for obj, fields in formset.changed_objects:
            _save_inline_row(obj, actor=request.user, fields=fields)
        for obj in formset.deleted_objects:
            delete_interaction(interaction=obj, actor=request.user, channel="admin")
        formset.save_m2m()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            ensure_provenance(contact=form.instance, actor=request.user, channel="admin")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            contact = self.get_object(request, object_id)
            if contact is not None and self.has_view_permission(request, contact):
                record_contact_view(contact=contact, actor=request.user, channel="admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def has_export_permission(self, request) -> bool:
        """Say whether the user may export contacts in bulk (Privacy officer, Administrator)."""
        return request.user.has_perm(f"{self.opts.app_label}.export_contacts")

    @admin.action(description="Export selected contacts to CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        """Ask why, then hand over the selected contacts as CSV; the export is audited."""
        form = ExportReasonForm(request.POST if "export_confirmed" in request.POST else None)
        if form.is_valid():
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
            add_never_cache_headers(response)
            response.write("\ufeff")  # the byte-order mark Excel needs to read UTF-8
            try:
                export_contacts_csv(
                    contacts=queryset,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    out=response,
                )
            except ValidationError as exc:
                form.add_error("reason", exc.messages)
            else:
                return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Export contacts to CSV",
            "form": form,
            "count": queryset.count(),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/crm/contact/export_csv.html", context)

    def has_delete_permission(self, request, obj=None):
        # Removing a person is erasure: it goes through a data-subject request, which writes the
        # suppression and the certificate; a plain delete would let a later import re-add them.
        return False


def _save_inline_row(obj, *, actor, fields) -> None:
    """Save a provenance or interaction row added or changed on a contact's page."""
    if isinstance(obj, ContactSource):
        save_provenance(provenance=obj, actor=actor, channel="admin", changed_fields=fields)
    elif isinstance(obj, Interaction):
        # Rows staff add themselves are held by them unless they say otherwise.
        save_interaction(
            interaction=obj, actor=actor, channel="admin", changed_fields=fields, held_by_actor=True
        )
    else:
        raise TypeError(f"No service saves {type(obj).__name__} rows from the contact's page.")


class CompanyAdminForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Company
        fields = COMPANY_FIELDS

    def clean(self):
        data = super().clean()
        probe = Company(
            **{k: v for k, v in data.items() if k in ("domain", "website", "phone", "country")}
        )
        try:
            normalise_company(probe)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
            return data
        data.update(domain=probe.domain, phone=probe.phone, country=probe.country)
        return data


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    form = CompanyAdminForm
    list_display = ("name", "domain", "industry", country_name)
    list_filter = ("country",)
    search_fields = ("^name", "^domain")
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        save_company(company=obj)


class AnsweredFilter(admin.SimpleListFilter):
    title = "answered"
    parameter_name = "answered"

    def lookups(self, request, model_admin):
        return [("no", "Waiting for an answer"), ("yes", "Answered")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(answered_at__isnull=self.value() == "no")
        return queryset


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """Interactions across contacts; contact-form messages wait here until answered."""

    list_display = ("occurred_at", "kind", "contact", "subject", sender_check, "answered_at")
    list_filter = ("kind", AnsweredFilter)
    list_select_related = ("contact",)
    raw_id_fields = ("contact", "staff")
    readonly_fields = (sender_check, "answered_at", "confirmed_at")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ("mark_answered", "confirm_sender")

    def save_model(self, request, obj, form, change):
        save_interaction(
            interaction=obj, actor=request.user, channel="admin", changed_fields=form.changed_data
        )

    def delete_model(self, request, obj):
        delete_interaction(interaction=obj, actor=request.user, channel="admin")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description="Mark the selected messages as answered")
    def mark_answered(self, request, queryset):
        done = sum(mark_answered(interaction=i, actor=request.user) for i in queryset)
        self.message_user(request, f"{done} message(s) marked as answered.")

    @admin.action(
        description="Confirm the sender of the selected messages (they replied or called)"
    )
    def confirm_sender(self, request, queryset):
        done = sum(confirm_sender(interaction=i, actor=request.user) for i in queryset)
        self.message_user(request, f"{done} message(s) confirmed as sent by the person.")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Billing records pushed through the API: read-only, kept under their legal hold."""

    list_display = ("number", "contact", "issued_on", "due_on", "amount", "currency", "hold_until")
    list_select_related = ("contact",)
    search_fields = ("=number",)
    date_hierarchy = "due_on"
    readonly_fields = (
        "number",
        "contact",
        "issued_on",
        "due_on",
        "amount",
        "currency",
        "hold_until",
        "created_at",
    )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An invoice names a person and what they paid: opening it is logged like a contact.
        if request.method == "GET":
            invoice = self.get_object(request, object_id)
            if invoice is not None and self.has_view_permission(request, invoice):
                record_invoice_view(invoice=invoice, actor=request.user, channel="admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ("name", "website", "country", "created_at")
    search_fields = ("name",)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ("name", "kind", "client", "url")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("client",)
