"""The list-import screens: upload with the client's statement, column mapping, progress, report."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from core.admin import ReadOnlyAdmin, form_page
from crm.imports.batches import (
    IMPORTABLE_KINDS,
    LEGAL_BASES,
    Attestation,
    awaits_sheet,
    can_resume,
    choose_sheet,
    create_batch,
    resume_batch,
    start_batch,
)
from crm.imports.files import preview, stored_sheet_names
from crm.imports.mapping import FIELDS, guess_mapping
from crm.imports.report import write_report
from crm.models import Client, ImportBatch, ImportRejection, Source

# While a batch runs its page reloads itself: a meta refresh, no script (CSP allows no inline one).
REFRESH_SECONDS = 3
NOT_MAPPED = ""


class UploadForm(forms.Form):
    """The list and what the client states about it."""

    file = forms.FileField(help_text="CSV (any delimiter and common encoding) or Excel (.xlsx).")
    source_kind = forms.ChoiceField(
        label="The list is",
        choices=[(kind.value, kind.label) for kind in IMPORTABLE_KINDS],
        initial=Source.Kind.CLIENT_LIST,
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.all(),
        required=False,
        help_text="Who supplied the list; required for a client-supplied list.",
    )
    list_name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Like 'Fair visitors 2026' or, for a public source, the directory's name. "
        "Defaults to the file name.",
    )
    source_url = forms.URLField(
        required=False, assume_scheme="https", help_text="For a public source: its address."
    )
    legal_basis = forms.ChoiceField(
        choices=[(basis.value, basis.label) for basis in LEGAL_BASES],
        help_text="The legal basis the client attests for contacting these people.",
    )
    attestation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="How the list was collected and what people were told, in the client's words.",
    )
    collected_on = forms.DateField(
        help_text="When the data was collected (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class SheetForm(forms.Form):
    """The sheet of a workbook with several holding data."""

    def __init__(self, *args, sheets: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sheet"] = forms.ChoiceField(
            choices=[(name, name) for name in sheets],
            widget=forms.RadioSelect,
            help_text="Only this sheet is imported; import another sheet as a list of its own.",
        )


class MappingForm(forms.Form):
    """One choice of column per contact field, pre-filled from the client's last import."""

    def __init__(self, *args, headers: list[str], initial_mapping: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(NOT_MAPPED, "— not imported —")] + [
            (str(index), name) for index, name in enumerate(headers)
        ]
        for field, label in FIELDS.items():
            index = initial_mapping.get(field)
            self.fields[field] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=str(index) if index is not None else NOT_MAPPED,
            )

    def mapping(self) -> dict[str, int]:
        """Return the chosen columns as field -> column number."""
        return {
            field: int(value) for field, value in self.cleaned_data.items() if value != NOT_MAPPED
        }


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """List imports: upload, map, watch; the rejected rows' report while it is kept."""

    list_display = ("__str__", "client", "source", "status", "progress", "created_at")
    list_filter = ("status",)
    list_select_related = ("client", "source")
    search_fields = ("file_name", "client__name")

    @admin.display(description="rows done")
    def progress(self, obj: ImportBatch) -> str:
        return (
            f"{obj.rows_done:,} / {obj.total_rows:,}: {obj.created:,} created, "
            f"{obj.merged:,} merged, {obj.rejected:,} rejected"
        )

    def has_change_permission(self, request, obj=None):
        # Batches are never edited: the progress page shows them, actions go through functions.
        return False

    def has_delete_permission(self, request, obj=None):
        # Provenance points at batches; the rejected rows go by the retention rule.
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:batch_id>/mapping/", wrap(self.mapping_view), name="crm_importbatch_map"),
            path("<int:batch_id>/report/", wrap(self.report_view), name="crm_importbatch_report"),
            path("<int:batch_id>/resume/", wrap(self.resume_view), name="crm_importbatch_resume"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Take the file and the client's statement; store a draft and go on to the mapping."""
        if not self.has_add_permission(request):
            raise PermissionDenied

        def store(data: dict) -> HttpResponse:
            batch = create_batch(
                upload=data["file"],
                file_name=data["file"].name,
                client=data["client"],
                source_kind=data["source_kind"],
                list_name=data["list_name"],
                source_url=data["source_url"],
                attestation=Attestation(
                    legal_basis=data["legal_basis"],
                    text=data["attestation"],
                    collected_on=data["collected_on"],
                ),
                sheet_later=True,
                actor=request.user,
                channel="admin",
            )
            return redirect("admin:crm_importbatch_map", batch.pk)

        return form_page(
            self,
            request,
            form=UploadForm(request.POST or None, request.FILES or None),
            template="admin/crm/importbatch/upload.html",
            title="Import a list",
            on_valid=store,
            max_mb=_max_megabytes(),
        )

    def mapping_view(self, request, batch_id: int):
        """Show the first rows and let staff pick the column of each field; then start."""
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if batch.status != ImportBatch.Status.DRAFT:
            return redirect("admin:crm_importbatch_change", batch.pk)
        if awaits_sheet(batch):
            return self._sheet_page(request, batch)
        form = MappingForm(
            request.POST or None,
            headers=batch.headers,
            initial_mapping=guess_mapping(batch.headers, client=batch.client),
        )

        def start(data: dict) -> str:
            start_batch(batch=batch, mapping=form.mapping(), actor=request.user)
            return "The import has started; this page shows its progress."

        return form_page(
            self,
            request,
            form=form,
            template="admin/crm/importbatch/mapping.html",
            title=f"Map the columns of {batch.file_name}",
            on_valid=start,
            then=reverse("admin:crm_importbatch_change", args=[batch.pk]),
            batch=batch,
            layout=preview(batch),
        )

    def _sheet_page(self, request, batch: ImportBatch):
        """Ask which sheet of the workbook to import; the mapping step follows."""

        def choose(data: dict) -> str:
            choose_sheet(batch=batch, sheet=data["sheet"])
            return f"The sheet “{batch.sheet}” is read; choose its columns."

        return form_page(
            self,
            request,
            form=SheetForm(request.POST or None, sheets=stored_sheet_names(batch)),
            template="admin/crm/importbatch/sheet.html",
            title=f"Choose the sheet of {batch.file_name}",
            on_valid=choose,
            batch=batch,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The batch's progress page: it reloads itself while the import runs."""
        batch = self.get_object(request, object_id)
        if batch is None or not self.has_view_permission(request, batch):
            raise PermissionDenied
        if batch.status == ImportBatch.Status.DRAFT and self.has_add_permission(request):
            return redirect("admin:crm_importbatch_map", batch.pk)
        running = batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING)
        labels = dict(ImportRejection.Reason.choices)
        context = {
            **self.admin_site.each_context(request),
            "title": str(batch),
            "batch": batch,
            "opts": self.opts,
            "refresh": REFRESH_SECONDS if running and not can_resume(batch) else None,
            "reasons": sorted(
                ((labels.get(reason, reason), count) for reason, count in _reasons(batch)),
                key=lambda item: -item[1],
            ),
            "can_resume": can_resume(batch) and self.has_add_permission(request),
            "has_report": batch.rejections.exists(),
            "mapping": [(FIELDS[f], batch.headers[i]) for f, i in batch.mapping.items()],
        }
        response = TemplateResponse(request, "admin/crm/importbatch/progress.html", context)
        add_never_cache_headers(response)
        return response

    def report_view(self, request, batch_id: int):
        """Hand over the rejected rows as CSV; the download is audited."""
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="import-{batch.pk}-rejected-{stamp}.csv"'
        )
        add_never_cache_headers(response)
        response.write("\ufeff")  # the byte-order mark Excel needs to read UTF-8
        write_report(batch=batch, out=response, actor=request.user, channel="admin")
        return response

    def resume_view(self, request, batch_id: int):
        """Queue a batch that stopped half-way again (POST only)."""
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        try:
            resume_batch(batch=batch, actor=request.user, channel="admin")
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
        else:
            self.message_user(request, "The import carries on where it stopped.")
        return redirect("admin:crm_importbatch_change", batch.pk)


@admin.register(ImportRejection)
class ImportRejectionAdmin(ReadOnlyAdmin):
    """Rejected rows, read-only; they go by the retention rule for import reports."""

    list_display = ("batch", "row_number", "reason", "message")
    list_filter = ("reason",)
    list_select_related = ("batch",)
    readonly_fields = ("batch", "row_number", "reason", "message", "cells", "created_at")
    exclude = ("email_hash",)


def _reasons(batch: ImportBatch) -> list[tuple[str, int]]:
    return list(batch.rejected_by_reason.items())


def _max_megabytes() -> int:
    return settings.IMPORT_MAX_FILE_BYTES // 1_000_000
