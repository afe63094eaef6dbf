"""A list import and the rows it refused: kept apart from the other CRM models for their size."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.legal import LegalBasis
from core.storage import private_storage


class ImportBatch(models.Model):
    """One uploaded list: who supplied it and on what legal basis, its mapping, progress, counts.

    The uploaded file lives here only until the batch ends; the rows it brought in are contacts
    with a `ContactSource` pointing here, and the rows it refused are `ImportRejection`s.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Waiting for its column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"

    class Step(models.TextChoices):
        STAGING = "staging", "Reading the file"
        STAGED = "staged", "File read"
        PREPARED = "prepared", "Rows decided"
        MERGED = "merged", "Rows merged"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    client = models.ForeignKey(
        "crm.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="import_batches",
        help_text="The client that supplied the list (required for client-supplied lists).",
    )
    source = models.ForeignKey(
        "crm.Source", on_delete=models.PROTECT, related_name="import_batches"
    )
    legal_basis = models.CharField(
        max_length=24,
        choices=LegalBasis.choices,
        help_text="The legal basis the client (or we, for public sources) rely on for this list.",
    )
    attestation = models.TextField(
        help_text="How the list was collected and what the people were told, as the client states.",
    )
    collected_on = models.DateField(help_text="When the data in the list was collected.")
    file = models.FileField(upload_to="imports/", storage=private_storage, blank=True)
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    sheet = models.CharField(
        max_length=31, blank=True, help_text="The workbook's sheet imported (XLSX only)."
    )
    headers = models.JSONField(default=list, help_text="The column names of the header row.")
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Contact field -> column number (from 0)."
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    total_rows = models.PositiveIntegerField(default=0, help_text="Estimated until read whole.")
    rows_read = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # The last step that ended: a resumed run carries on with the next one.
    step = models.CharField(max_length=8, choices=Step.choices, default=Step.STAGING)
    # The last row number merged: a resumed run carries on after it.
    last_row_merged = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejected_by_reason = models.JSONField(default=dict, blank=True)
    nul_bytes_dropped = models.PositiveIntegerField(
        default=0, help_text="NUL characters removed from the rows' cells (no database holds them)."
    )
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "list import"
        verbose_name_plural = "list imports"

    def __str__(self) -> str:
        return f"Import #{self.pk}: {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("admin:crm_importbatch_change", args=[self.pk])


class ImportRejection(models.Model):
    """One row of an imported list that was refused, with the reason: the rejected-rows report.

    Rows refused because the address opted out or the person is under 16 keep no values: only
    the row number and the reason, so the report never brings back what we must not hold.
    """

    class Reason(models.TextChoices):
        INVALID_EMAIL = "invalid_email", "Invalid e-mail address"
        INVALID_PHONE = "invalid_phone", "Invalid phone number"
        MISSING_FIELD = "missing_field", "Missing required field"
        INVALID_DATE = "invalid_date", "Invalid birth date"
        UNDER_16 = "under_16", "Under 16"
        INVALID_COUNTRY = "invalid_country", "Unknown country"
        SUPPRESSED = "suppressed", "Opted out of all contact"
        SUPPRESSED_CLIENT = "suppressed_client", "Opted out of this client's messages"
        DUPLICATE = "duplicate", "Duplicate of an earlier row in the file"
        AMBIGUOUS_PHONE = "ambiguous_phone", "Phone number without a country"
        TOO_LONG = "too_long", "Value too long"

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(help_text="Line in the file, the header being 1.")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    message = models.CharField(max_length=300, blank=True)
    cells = models.JSONField(default=list, blank=True, help_text="The row's cells as read.")
    # Keyed hash of the row's address when it was valid: how erasure finds the row.
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["batch", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "row_number"], name="crm_importrejection_unique_row"
            )
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.get_reason_display()}"
