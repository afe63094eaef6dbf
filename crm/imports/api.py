"""REST API for list imports: upload a list with the client's statement, follow its progress."""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from crm.imports.batches import IMPORTABLE_KINDS, LEGAL_BASES, Attestation, create_batch
from crm.imports.files import check_file
from crm.imports.mapping import guess_mapping
from crm.imports.report import write_report
from crm.models import Client, ImportBatch

CHANNEL = "api"


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (any common delimiter and encoding) or XLSX.")
    source_kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in IMPORTABLE_KINDS])
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(), required=False, allow_null=True
    )
    list_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source_url = serializers.URLField(required=False, allow_blank=True, default="")
    legal_basis = serializers.ChoiceField(choices=[(b.value, b.label) for b in LEGAL_BASES])
    attestation = serializers.CharField(help_text="How the list was collected, as attested.")
    collected_on = serializers.DateField()
    sheet = serializers.CharField(
        max_length=31,
        required=False,
        allow_blank=True,
        default="",
        help_text="The sheet to import from a workbook; required when several hold data.",
    )
    mapping = serializers.JSONField(
        required=False,
        help_text='Field -> column name or number, like {"email": "E-mail"}. Without it the '
        "client's last mapping and the column names are used; an e-mail column is required.",
    )


class ImportOutput(serializers.ModelSerializer):
    source_kind = serializers.CharField(source="source.kind")
    source_name = serializers.CharField(source="source.name")
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = (
            "id",
            "status",
            "file_name",
            "client",
            "source_kind",
            "source_name",
            "legal_basis",
            "collected_on",
            "sheet",
            "mapping",
            "total_rows",
            "rows_read",
            "rows_done",
            "created",
            "merged",
            "rejected",
            "rejected_by_reason",
            "nul_bytes_dropped",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "report_url",
        )

    def get_report_url(self, obj: ImportBatch) -> str:
        return reverse("api:import-report", args=[obj.pk])


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List imports: upload one (it starts at once), read its progress, download its report."""

    queryset = ImportBatch.objects.select_related("source")
    serializer_class = ImportOutput
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(request=ImportInput, responses={201: ImportOutput})
    def create(self, request):
        """Check the file and the statement and start the import; 400 with field errors if bad."""
        given = ImportInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        upload = data["file"]
        mapping = data.get("mapping")
        if mapping is None:
            layout = check_file(upload, size=upload.size, sheet=data["sheet"])
            mapping = guess_mapping(layout.headers, client=data.get("client"))
        elif not isinstance(mapping, dict):
            raise serializers.ValidationError({"mapping": "Give an object: field -> column."})
        batch = create_batch(
            upload=upload,
            file_name=upload.name,
            client=data.get("client"),
            source_kind=data["source_kind"],
            list_name=data.get("list_name", ""),
            source_url=data["source_url"],
            attestation=Attestation(
                legal_basis=data["legal_basis"],
                text=data["attestation"],
                collected_on=data["collected_on"],
            ),
            mapping=mapping,
            sheet=data["sheet"],
            actor=request.user,
            channel=CHANNEL,
        )
        return Response(ImportOutput(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="Rejected rows")})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """Return the rejected rows as CSV (formulas neutralised); the download is audited."""
        batch = self.get_object()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-rejected.csv"'
        add_never_cache_headers(response)
        write_report(batch=batch, out=response, actor=request.user, channel=CHANNEL)
        return response
