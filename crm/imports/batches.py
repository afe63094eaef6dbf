"""A list import's life: created with the client's statement, started, run, resumed, ended.

A batch is created from the uploaded file and the client's attestation (nothing runs yet), started
once its columns are mapped, and run by the imports worker: staged chunk by chunk, then prepared
and merged in one transaction each (crm.imports.staging, crm.imports.merge); the batch records the
step reached. A batch that stopped half-way can be resumed and carries on where it was; drafts and
failed batches left too long are discarded. The audit trail gets one event when the batch is
created and one with the counts when it ends, never the data.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.actors import Actor
from core.audit import record_audit
from core.legal import LegalBasis
from core.models import AuditEvent
from core.outbox import enqueue_on_commit
from crm.imports.files import FileLayout, check_file
from crm.imports.mapping import clean_mapping
from crm.imports.merge import merge, prepare
from crm.imports.staging import Progress, Stage, save_progress, stage_file
from crm.models import Client, ImportBatch, Source
from crm.provenance import get_source

logger = logging.getLogger(__name__)

Status = ImportBatch.Status
Step = ImportBatch.Step

# What a list can be: sources not collected from the person (art. 14) and events.
IMPORTABLE_KINDS = (
    Source.Kind.CLIENT_LIST,
    Source.Kind.BUSINESS_DIRECTORY,
    Source.Kind.PUBLIC_WEBSITE,
    Source.Kind.SOCIAL_MEDIA,
    Source.Kind.BUSINESS_PARTNER,
    Source.Kind.THIRD_PARTY,
    Source.Kind.EVENT,
)
PUBLIC_KINDS = (
    Source.Kind.BUSINESS_DIRECTORY,
    Source.Kind.PUBLIC_WEBSITE,
    Source.Kind.SOCIAL_MEDIA,
)
# The legal bases a list of prospects can rest on; the others cannot apply to direct marketing.
LEGAL_BASES = (
    LegalBasis.CONSENT,
    LegalBasis.LEGITIMATE_INTEREST,
    LegalBasis.CONTRACT,
)


@dataclass(frozen=True)
class Attestation:
    """What the client states about the list: the legal basis, how and when it was collected."""

    legal_basis: str
    text: str
    collected_on: date


def create_batch(
    *,
    upload: File,
    file_name: str,
    client: Client | None,
    source_kind: str,
    list_name: str,
    attestation: Attestation,
    actor: Actor,
    channel: str,
    source_url: str = "",
    mapping: dict[str, Any] | None = None,
    sheet: str = "",
    sheet_later: bool = False,
) -> ImportBatch:
    """Check the file and the statement, store the file, and record a batch; nothing runs yet.

    With a `mapping` the batch is ready to start, else it waits in draft for the mapping step.
    `sheet` names a workbook's sheet; a workbook with several sheets holding data needs one,
    unless `sheet_later` lets a draft wait for it (`choose_sheet`, the admin's next page).
    Raise ValidationError, storing nothing, for a bad file, sheet, statement or mapping.
    """
    errors: dict[str, list[str]] = {}
    if source_kind not in IMPORTABLE_KINDS:
        errors["source_kind"] = [f"Choose one of: {', '.join(IMPORTABLE_KINDS)}."]
    if source_kind == Source.Kind.CLIENT_LIST and client is None:
        errors["client"] = ["A client-supplied list needs the client that supplied it."]
    if source_kind in PUBLIC_KINDS and not (source_url or list_name.strip()):
        errors["source_url"] = ["Name the directory or give the address of the public source."]
    if attestation.legal_basis not in LEGAL_BASES:
        errors["legal_basis"] = [f"Choose one of: {', '.join(LEGAL_BASES)}."]
    if not attestation.text.strip():
        errors["attestation"] = ["Say how the list was collected and what people were told."]
    if attestation.collected_on > timezone.localdate():
        errors["collected_on"] = ["The collection date cannot be in the future."]
    if errors:
        raise ValidationError(errors)
    try:
        layout = check_file(upload, size=upload.size, sheet=sheet.strip())
    except ValidationError as exc:
        if not (sheet_later and mapping is None and _asks_for_sheet(exc)):
            raise
        layout = FileLayout(ImportBatch.Format.XLSX, "", "", [], [], 0)
    cleaned = clean_mapping(mapping, layout.headers) if mapping is not None else {}
    digest = _sha256(upload)
    name = (list_name.strip() or file_name)[:200]
    with transaction.atomic():
        source = get_source(
            kind=source_kind,
            name=name,
            url=source_url,
            client=client if source_kind == Source.Kind.CLIENT_LIST else None,
        )
        batch = ImportBatch(
            client=client,
            source=source,
            legal_basis=attestation.legal_basis,
            attestation=attestation.text.strip(),
            collected_on=attestation.collected_on,
            file_name=file_name[:255],
            file_size=upload.size,
            file_sha256=digest,
            file_format=layout.file_format,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            sheet=layout.sheet,
            headers=layout.headers,
            mapping=cleaned,
            status=Status.QUEUED if cleaned else Status.DRAFT,
            total_rows=layout.estimated_rows,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        upload.seek(0)
        batch.file.save(f"{digest[:16]}.{layout.file_format}", upload, save=False)
        batch.save()
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CREATED,
            obj=batch,
            channel=channel,
            details={"import": "uploaded", "bytes": upload.size, "format": layout.file_format},
        )
    if cleaned:
        _queue_on_commit(batch)
    return batch


def _asks_for_sheet(exc: ValidationError) -> bool:
    """Say whether the file was refused only for want of the sheet to read."""
    errors = getattr(exc, "error_dict", {})
    return list(errors) == ["sheet"] and errors["sheet"][0].code == "several_sheets"


def awaits_sheet(batch: ImportBatch) -> bool:
    """Say whether a draft workbook batch still needs its sheet chosen before its mapping."""
    return batch.status == Status.DRAFT and not batch.headers and not batch.sheet


def choose_sheet(*, batch: ImportBatch, sheet: str) -> ImportBatch:
    """Set the sheet a draft batch reads, with its header row; raise ValidationError if bad."""
    if not awaits_sheet(batch):
        raise ValidationError("This import already has its sheet.")
    with batch.file.open("rb") as handle:
        layout = check_file(handle, size=batch.file_size, sheet=sheet)
    batch.sheet, batch.headers, batch.total_rows = (
        layout.sheet,
        layout.headers,
        layout.estimated_rows,
    )
    batch.save(update_fields=["sheet", "headers", "total_rows"])
    return batch


def start_batch(*, batch: ImportBatch, mapping: dict[str, Any], actor: Actor) -> ImportBatch:
    """Set the mapping of a draft batch and queue it; raise ValidationError for a bad mapping."""
    if batch.status != Status.DRAFT:
        raise ValidationError("This import has already started.")
    cleaned = clean_mapping(mapping, batch.headers)
    with transaction.atomic():
        batch.mapping = cleaned
        batch.status = Status.QUEUED
        batch.save(update_fields=["mapping", "status"])
    _queue_on_commit(batch)
    return batch


def can_resume(batch: ImportBatch) -> bool:
    """Say whether the batch stopped half-way: failed, or running without a sign of life."""
    if batch.status == Status.FAILED:
        return bool(batch.file)
    if batch.status == Status.RUNNING:
        return _is_stale(batch)
    return False


def resume_batch(
    *, batch: ImportBatch, actor: Actor, channel: str, queue: bool = True
) -> ImportBatch:
    """Queue a batch that stopped half-way again; it carries on where it was.

    Raise ValidationError if it is still running or has ended for good.
    """
    if not can_resume(batch):
        raise ValidationError("Only an import that failed or stopped half-way can be resumed.")
    with transaction.atomic():
        batch.status = Status.QUEUED
        batch.error = ""
        batch.save(update_fields=["status", "error"])
        record_audit(
            actor=actor,
            action=AuditEvent.Action.CHANGED,
            obj=batch,
            channel=channel,
            details={"import": "resumed", "rows_done": batch.rows_done},
        )
    if queue:
        _queue_on_commit(batch)
    return batch


def _queue_on_commit(batch: ImportBatch) -> None:
    # Through the outbox: with the broker away the batch waits instead of staying queued forever.
    enqueue_on_commit("crm.tasks.run_import", batch.pk)


def _sha256(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def run_batch(*, batch_id: int, progress: Progress | None = None) -> ImportBatch:
    """Run (or carry on) a queued batch to its end; return it. Safe to call twice.

    Does nothing to a batch another worker is running, or one that has ended.
    """
    batch = _claim(batch_id)
    if batch is None:
        return ImportBatch.objects.get(pk=batch_id)
    stage = Stage(batch)
    try:
        stage.create()
        if batch.step in (Step.STAGED, Step.PREPARED) and stage.last_row() == 0:
            # PostgreSQL empties an unlogged table after a crash: read the file again.
            batch.step = Step.STAGING
        if batch.step == Step.STAGING:
            stage_file(batch=batch, stage=stage, progress=progress)
        if batch.step == Step.STAGED:
            prepare(batch=batch, stage=stage)
        if batch.step == Step.PREPARED:
            merge(batch=batch, stage=stage)
        _finish(batch, stage)
    except Exception as exc:
        # What was committed stays, with the step it reached: a resume carries on from there.
        batch.refresh_from_db()
        batch.status = Status.FAILED
        batch.error = type(exc).__name__[:300]
        batch.save(update_fields=["status", "error"])
        logger.exception("import batch %s failed after %d rows", batch.pk, batch.rows_done)
        raise
    if progress:
        progress(batch)
    return batch


def _claim(batch_id: int) -> ImportBatch | None:
    """Mark the batch running if it is queued (or running without a heartbeat); else None."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    claimed = ImportBatch.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale), pk=batch_id
    ).update(status=Status.RUNNING, heartbeat_at=now)
    if not claimed:
        return None
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.started_at is None:
        batch.started_at = now
        batch.save(update_fields=["started_at"])
    return batch


def _is_stale(batch: ImportBatch) -> bool:
    limit = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    return batch.heartbeat_at is None or batch.heartbeat_at < limit


def _finish(batch: ImportBatch, stage: Stage) -> None:
    """Mark the batch completed and audit its counts; delete the file and the staging table."""
    with transaction.atomic():
        batch.status = Status.COMPLETED
        batch.finished_at = timezone.now()
        _discard_file(batch)
        save_progress(batch, "status", "finished_at", "file")
        record_audit(
            actor=batch.created_by,
            action=AuditEvent.Action.CHANGED,
            obj=batch,
            channel="task",
            details={"import": "completed", **counts(batch)},
        )
    stage.drop()
    logger.info("import batch %s completed: %s", batch.pk, counts(batch))


def _discard_file(batch: ImportBatch) -> None:
    """Delete the uploaded file once the transaction commits (data minimisation)."""
    if batch.file:
        name, storage = batch.file.name, batch.file.storage
        transaction.on_commit(lambda: storage.delete(name))
        batch.file = ""


def counts(batch: ImportBatch) -> dict[str, Any]:
    """Return the batch's counts: rows, created, merged, rejected by reason, NULs dropped.

    Never the data.
    """
    return {
        "rows": batch.total_rows,
        "created": batch.created,
        "merged": batch.merged,
        "rejected": batch.rejected,
        "rejected_by_reason": dict(batch.rejected_by_reason),
        "nul_bytes_dropped": batch.nul_bytes_dropped,
    }


def discard_unfinished(*, older_than: timedelta | None = None) -> int:
    """Discard drafts and failed batches left longer than IMPORT_UNFINISHED_HOURS; say how many.

    Their file and staging table go; what a failed batch merged stays, with its provenance.
    """
    age = older_than or timedelta(hours=settings.IMPORT_UNFINISHED_HOURS)
    cutoff = timezone.now() - age
    left = ImportBatch.objects.filter(
        Q(status=Status.DRAFT) | Q(status=Status.FAILED), created_at__lt=cutoff
    )
    discarded = 0
    for batch in left:
        with transaction.atomic():
            batch.status = Status.DISCARDED
            batch.finished_at = timezone.now()
            _discard_file(batch)
            batch.save(update_fields=["status", "finished_at", "file"])
            record_audit(
                actor=None,
                action=AuditEvent.Action.CHANGED,
                obj=batch,
                channel="task",
                details={"import": "discarded", **counts(batch)},
            )
        Stage(batch).drop()
        discarded += 1
    return discarded
