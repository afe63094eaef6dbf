"""REST API for contacts and companies: explicit serializers, thin views, services do the work."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import NewestFirstCursorPagination
from core.audit import record_reads
from core.normalisation import normalise_country
from crm.companies import COMPANY_FIELDS, save_company
from crm.contacts import record_contact_view, update_contact
from crm.duplicates import duplicate_candidates
from crm.exports_csv import REASON_MAX_LENGTH, export_contacts_csv
from crm.invoices import record_invoice
from crm.models import Company, Contact, ContactSource, Invoice, Source
from crm.provenance import create_contact_with_provenance
from crm.search import search_contacts
from crm.timeline import MAX_PAGE, PAGE_SIZE, contact_timeline, record_timeline_view

CHANNEL = "api"


class ProvenanceOutput(serializers.ModelSerializer):
    kind = serializers.CharField(source="source.kind")
    name = serializers.CharField(source="source.name")

    class Meta:
        model = ContactSource
        fields = ("kind", "name", "reference", "collected_at", "informed_at")


# What only a role that may export contacts in bulk receives in a list (docs/roles.md).
CONTACT_DETAILS = ("email", "phone", "job_title", "birth_date", "language", "last_activity_at")
EXPORT_PERMISSION = "crm.export_contacts"


class ContactOutput(serializers.ModelSerializer):
    country = serializers.CharField()

    class Meta:
        model = Contact
        fields = (
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "company",
            "country",
            "language",
            "birth_date",
            "relationship",
            "last_activity_at",
            "is_restricted",
            "email_status",
            "created_at",
            "updated_at",
        )


class ContactSummaryOutput(ContactOutput):
    """A list row for roles that may not export: who and where, without the contact details."""

    class Meta(ContactOutput.Meta):
        fields = tuple(name for name in ContactOutput.Meta.fields if name not in CONTACT_DETAILS)


class ContactDetailOutput(ContactOutput):
    provenance = ProvenanceOutput(many=True, read_only=True)

    class Meta(ContactOutput.Meta):
        fields = (*ContactOutput.Meta.fields, "provenance")


class SourceInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[c for c in Source.Kind.choices if c[0] != Source.Kind.CLIENT_LIST],
        help_text="Client-supplied lists come in through the import, which records the client.",
    )
    name = serializers.CharField(max_length=200)
    url = serializers.URLField(required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    collected_at = serializers.DateTimeField(required=False)
    informed_at = serializers.DateField(required=False, allow_null=True)


class ContactInput(serializers.Serializer):
    """Contact fields; e-mail, phone and country are normalised by the service, not here."""

    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.CharField(max_length=320, required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(), required=False, allow_null=True
    )
    country = serializers.CharField(max_length=60, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        choices=Contact._meta.get_field("language").choices, required=False, allow_blank=True
    )
    birth_date = serializers.DateField(required=False, allow_null=True)
    relationship = serializers.ChoiceField(choices=Contact.Relationship.choices, required=False)
    email_status = serializers.ChoiceField(choices=Contact.EmailStatus.choices, required=False)


class ContactCreateInput(ContactInput):
    source = SourceInput(help_text="Where this person's data came from (required).")


class TimelineFilter(serializers.Serializer):
    kind = serializers.CharField(required=False, allow_blank=True, default="")
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=100, default=PAGE_SIZE
    )


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    url = serializers.CharField(help_text="The record's admin page; empty if not yours to see.")
    record = serializers.CharField(help_text="app_label.model:id of the record.")


class TimelineOutput(serializers.Serializer):
    entries = TimelineEntryOutput(many=True)
    page = serializers.IntegerField()
    has_next = serializers.BooleanField()
    kinds = serializers.ListField(child=serializers.CharField())


class DuplicateOutput(serializers.Serializer):
    id = serializers.IntegerField(source="contact.pk")
    name = serializers.CharField(source="contact")
    reasons = serializers.ListField(child=serializers.CharField())


class ContactFilter(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True)
    relationship = serializers.ChoiceField(choices=Contact.Relationship.choices, required=False)

    def validate_country(self, value: str) -> str:
        return normalise_country(value)


class ContactExportInput(ContactFilter):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Why these contacts are exported (audited)."
    )


class ContactPagination(NewestFirstCursorPagination):
    """Contacts come a page at a time for reading; a copy of many is the audited export."""

    max_page_size = 100


class MayExportContacts(permissions.BasePermission):
    """Staff whose role may export contacts in bulk."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_staff and user.has_perm(EXPORT_PERMISSION))


class ContactViewSet(viewsets.GenericViewSet):
    """Contacts. Deleting a person is erasure and goes through a data-subject request instead."""

    # Ids are numbers: anything else in the path is a 404 from the router, not a 500 here.
    lookup_value_regex = r"[0-9]+"

    queryset = Contact.objects.select_related("company")
    serializer_class = ContactOutput
    pagination_class = ContactPagination

    def get_permissions(self):
        if self.action == "export":
            return [MayExportContacts()]
        return super().get_permissions()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset.prefetch_related("provenance__source")
        params = ContactFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        # Records merged into another keep only their id; the list shows the record kept.
        queryset = queryset.filter(merged_into__isnull=True)
        return self.filtered(queryset, params.validated_data)

    @staticmethod
    def filtered(queryset, filters: dict):
        """Apply the list's filters (search, country, relationship) to the contacts."""
        if filters.get("search"):
            queryset = search_contacts(queryset, filters["search"])
        if filters.get("country"):
            queryset = queryset.filter(country=filters["country"])
        if filters.get("relationship"):
            queryset = queryset.filter(relationship=filters["relationship"])
        return queryset

    @extend_schema(parameters=[ContactFilter], responses=ContactOutput(many=True))
    def list(self, request):
        """A page of contacts, audited as one read; contact details only for roles that export."""
        page = self.paginate_queryset(self.get_queryset())
        full = request.user.has_perm(EXPORT_PERMISSION)
        record_reads(
            actor=request.user,
            model=Contact,
            ids=[contact.pk for contact in page],
            channel=CHANNEL,
            details={"list": "full" if full else "summary"},
        )
        output = ContactOutput if full else ContactSummaryOutput
        return self.get_paginated_response(output(page, many=True).data)

    @extend_schema(request=ContactExportInput, responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["post"])
    def export(self, request):
        """The bulk CSV export of the filtered contacts, with a reason, as in the admin."""
        params = ContactExportInput(data=request.data)
        params.is_valid(raise_exception=True)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
        add_never_cache_headers(response)
        response.write("\ufeff")  # the byte-order mark Excel needs to read UTF-8
        export_contacts_csv(
            contacts=self.filtered(
                Contact.objects.filter(merged_into__isnull=True), params.validated_data
            ),
            actor=request.user,
            reason=params.validated_data["reason"],
            out=response,
            channel=CHANNEL,
        )
        return response

    @extend_schema(responses=ContactDetailOutput)
    def retrieve(self, request, pk=None):
        contact = get_object_or_404(self.get_queryset(), pk=pk)
        record_contact_view(contact=contact, actor=request.user, channel=CHANNEL)
        return Response(ContactDetailOutput(contact).data)

    @extend_schema(parameters=[TimelineFilter], responses=TimelineOutput)
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """The person's timeline, newest first, as your role may see it; the reading is logged."""
        contact = get_object_or_404(Contact, pk=pk)
        params = TimelineFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        timeline = contact_timeline(
            contact=contact,
            user=request.user,
            kind=filters["kind"],
            page=filters["page"],
            size=filters["page_size"],
        )
        record_timeline_view(
            contact=contact, actor=request.user, channel=CHANNEL, kind=filters["kind"]
        )
        return Response(TimelineOutput(timeline).data)

    @extend_schema(responses=DuplicateOutput(many=True))
    @action(detail=True, methods=["get"])
    def duplicates(self, request, pk=None):
        """Other records that may be the same person, and why."""
        contact = get_object_or_404(Contact, pk=pk)
        return Response(DuplicateOutput(duplicate_candidates(contact), many=True).data)

    @extend_schema(request=ContactCreateInput, responses={201: ContactDetailOutput})
    def create(self, request):
        payload = ContactCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        origin = values.pop("source")
        contact = create_contact_with_provenance(
            actor=request.user,
            channel=CHANNEL,
            contact_values=values,
            source_kind=origin["kind"],
            source_name=origin["name"],
            source_url=origin["url"],
            collected_at=origin.get("collected_at"),
            reference=origin["reference"],
            informed_at=origin.get("informed_at"),
        )
        contact = self.get_queryset().get(pk=contact.pk)
        return Response(ContactDetailOutput(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContactInput, responses=ContactDetailOutput)
    def partial_update(self, request, pk=None):
        contact = get_object_or_404(Contact, pk=pk)
        payload = ContactInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        update_contact(
            contact=contact, actor=request.user, channel=CHANNEL, **payload.validated_data
        )
        return Response(ContactDetailOutput(self.get_queryset().get(pk=pk)).data)


class CompanySerializer(serializers.ModelSerializer):
    country = serializers.CharField(max_length=60, required=False, allow_blank=True)

    class Meta:
        model = Company
        fields = ("id", *COMPANY_FIELDS, "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class CompanyViewSet(viewsets.GenericViewSet):
    """Companies contacts work for."""

    # Ids are numbers: anything else in the path is a 404 from the router, not a 500 here.
    lookup_value_regex = r"[0-9]+"

    queryset = Company.objects.all()
    serializer_class = CompanySerializer

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CompanySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(CompanySerializer(get_object_or_404(Company, pk=pk)).data)

    def create(self, request):
        payload = CompanySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        company = save_company(company=Company(**payload.validated_data))
        return Response(CompanySerializer(company).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        company = get_object_or_404(Company, pk=pk)
        payload = CompanySerializer(company, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        for name, value in payload.validated_data.items():
            setattr(company, name, value)
        return Response(CompanySerializer(save_company(company=company)).data)

    def destroy(self, request, pk=None):
        get_object_or_404(Company, pk=pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvoiceSerializer(serializers.ModelSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())

    class Meta:
        model = Invoice
        fields = (
            "id",
            "number",
            "contact",
            "issued_on",
            "due_on",
            "amount",
            "currency",
            "hold_until",
            "created_at",
        )
        read_only_fields = ("hold_until", "created_at")


class InvoiceViewSet(viewsets.GenericViewSet):
    """Invoices pushed by billing systems; kept under a legal hold, removed by retention."""

    # Ids are numbers: anything else in the path is a 404 from the router, not a 500 here.
    lookup_value_regex = r"[0-9]+"

    queryset = Invoice.objects.all()
    serializer_class = InvoiceSerializer

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvoiceSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(InvoiceSerializer(get_object_or_404(Invoice, pk=pk)).data)

    def create(self, request):
        payload = InvoiceSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invoice = record_invoice(actor=request.user, channel=CHANNEL, **payload.validated_data)
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)
