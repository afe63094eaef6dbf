"""The marketing staff's screens: contacts with provenance and interactions, companies, clients."""

from datetime import timedelta
from functools import cached_property

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_countries import countries

from crm.companies import normalise_company, save_company
from crm.contacts import (
    find_duplicate,
    normalise_contact,
    record_contact_view,
    save_contact,
)
from crm.counting import fast_count
from crm.models import Client, Company, Contact, ContactSource, Interaction, Source
from crm.provenance import ensure_provenance
from crm.search import search_contacts
from privacy.audit import record_audit
from privacy.models import AuditEvent

# A website typed without a scheme is read as https (Django 6's default, chosen now).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class EstimatedCountPaginator(Paginator):
    """Paginate without an exact COUNT(*) of a whole big table (see crm.counting)."""

    @cached_property
    def count(self) -> int:
        return fast_count(self.object_list, exact_below=settings.ADMIN_EXACT_COUNT_LIMIT)


class CountryInUseFilter(admin.SimpleListFilter):
    """Offer only the countries that contacts actually have, not all 250."""

    title = "country"
    parameter_name = "country"
    cache_key = "crm:contact-countries"

    def lookups(self, request, model_admin):
        codes = cache.get(self.cache_key)
        if codes is None:
            codes = sorted(
                Contact.objects.exclude(country="")
                .order_by()
                .values_list("country", flat=True)
                .distinct()
            )
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

    class Meta:
        model = Contact
        # The admin's fieldsets decide the fields shown; these are the ones clean() needs.
        fields = ("email", "phone", "country")

    def clean(self):
        data = super().clean()
        probe = Contact(
            pk=self.instance.pk,
            email=data.get("email"),
            phone=data.get("phone", ""),
            country=data.get("country", ""),
        )
        try:
            normalise_contact(probe)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name, errors)
            return data
        data.update(email=probe.email, phone=probe.phone, country=probe.country)
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


class ContactSourceInline(admin.TabularInline):
    model = ContactSource
    extra = 0
    fields = ("source", "collected_at", "reference", "collected_by", "informed_at")
    raw_id_fields = ("collected_by",)


class InteractionInline(admin.StackedInline):
    model = Interaction
    extra = 0
    fields = (("kind", "occurred_at", "staff"), "subject", "body")
    raw_id_fields = ("staff",)


class AuditedInlinesMixin:
    """Write an audit event for every inline row staff add, change or delete."""

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            record_audit(
                actor=request.user, action=AuditEvent.Action.CREATED, obj=obj, channel="admin"
            )
        for obj, fields in formset.changed_objects:
            record_audit(
                actor=request.user,
                action=AuditEvent.Action.CHANGED,
                obj=obj,
                channel="admin",
                fields=fields,
            )
        for obj in formset.deleted_objects:
            record_audit(
                actor=request.user, action=AuditEvent.Action.DELETED, obj=obj, channel="admin"
            )


@admin.register(Contact)
class ContactAdmin(AuditedInlinesMixin, admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("__str__", "email", "company", "country", "relationship", "last_activity_at")
    list_select_related = ("company",)
    list_filter = (
        CountryInUseFilter,
        "relationship",
        SourceKindFilter,
        LastActivityFilter,
        "email_status",
        "is_restricted",
    )
    search_fields = ("email",)
    search_help_text = "Beginning of an e-mail address, first or last name, or company name."
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ("company",)
    readonly_fields = ("last_activity_at", "created_at", "updated_at")
    inlines = (ContactSourceInline, InteractionInline)
    fieldsets = (
        (
            None,
            {"fields": (("first_name", "last_name"), "email", "phone", "language", "birth_date")},
        ),
        ("Work", {"fields": ("company", "job_title", "country", "relationship")}),
        (
            "Status",
            {
                "fields": (
                    "email_status",
                    "is_restricted",
                    "last_activity_at",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return search_contacts(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        save_contact(
            contact=obj, actor=request.user, channel="admin", changed_fields=form.changed_data
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        ensure_provenance(contact=form.instance, actor=request.user, channel="admin")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            contact = self.get_object(request, object_id)
            if contact is not None and self.has_view_permission(request, contact):
                record_contact_view(contact=contact, actor=request.user, channel="admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        # Removing a person is erasure: it goes through a data-subject request, which writes the
        # suppression and the certificate; a plain delete would let a later import re-add them.
        return False


class CompanyAdminForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Company
        fields = (
            "name",
            "website",
            "domain",
            "industry",
            "phone",
            "address",
            "country",
            "registration_number",
            "vat_number",
        )

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
    list_display = ("name", "domain", "industry", "country")
    list_filter = ("country",)
    search_fields = ("^name", "^domain")
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        save_company(company=obj)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ("name", "website", "created_at")
    search_fields = ("name",)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ("name", "kind", "client", "url")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("client",)
