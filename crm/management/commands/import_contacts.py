"""`manage.py import_contacts FILE --client NAME --source-kind …`: import a list with progress."""

import json
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from core.models import AuditEvent
from crm.imports.batches import (
    IMPORTABLE_KINDS,
    LEGAL_BASES,
    Attestation,
    counts,
    create_batch,
    resume_batch,
    run_batch,
)
from crm.imports.files import check_file
from crm.imports.mapping import FIELDS, guess_mapping
from crm.models import Client, ImportBatch


class Command(BaseCommand):
    help = (
        "Import a client-supplied or public-source list (CSV or XLSX) and show its progress. "
        "Runs here, in this process, unless --queue sends it to the `imports` worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="The CSV or XLSX file.")
        parser.add_argument("--client", help="Name of the client that supplied the list.")
        parser.add_argument("--source-kind", choices=IMPORTABLE_KINDS, default="client_list")
        parser.add_argument("--list-name", default="", help="Name of the list or directory.")
        parser.add_argument("--source-url", default="", help="Address of the public source.")
        parser.add_argument("--legal-basis", choices=LEGAL_BASES, default="legitimate_interest")
        parser.add_argument(
            "--attestation", default="", help="How the list was collected, as the client states."
        )
        parser.add_argument(
            "--collected-on", type=date.fromisoformat, help="When it was collected (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--mapping",
            help="JSON object or field=Column pairs, comma-separated, like "
            "'email=E-mail,first_name=First name'. Fields: " + ", ".join(FIELDS) + ". "
            "Without it the client's last mapping and the column names are used.",
        )
        parser.add_argument(
            "--sheet", default="", help="The sheet to import from a workbook with several."
        )
        parser.add_argument("--queue", action="store_true", help="Run it on the worker.")
        parser.add_argument("--resume", type=int, metavar="BATCH", help="Resume a stopped batch.")

    def handle(self, *args, **options):
        if options["resume"]:
            batch = self._resume(options["resume"], queue=options["queue"])
        else:
            batch = self._create(options)
        if options["queue"]:
            self.stdout.write(f"Import #{batch.pk} queued on the imports worker.")
            return
        batch = run_batch(batch_id=batch.pk, progress=self._progress)
        self.stdout.write("")
        summary = counts(batch)
        self.stdout.write(
            f"Import #{batch.pk} {batch.get_status_display().lower()}: {summary['rows']} rows, "
            f"{summary['created']} created, {summary['merged']} merged, "
            f"{summary['rejected']} rejected {json.dumps(summary['rejected_by_reason'])}"
            + (
                f", {summary['nul_bytes_dropped']} NUL characters dropped."
                if summary["nul_bytes_dropped"]
                else "."
            )
        )

    def _create(self, options) -> ImportBatch:
        if not options["file"]:
            raise CommandError("Give the file to import, or --resume BATCH.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        client = None
        if options["client"]:
            client = Client.objects.filter(name=options["client"]).first()
            if client is None:
                raise CommandError(f"No client named {options['client']!r}; add it first.")
        if not options["collected_on"]:
            raise CommandError("Give --collected-on: when the data in the list was collected.")
        with path.open("rb") as handle:
            upload = File(handle, name=path.name)
            try:
                mapping = self._mapping(options["mapping"], upload, client, options["sheet"])
                return create_batch(
                    upload=upload,
                    file_name=path.name,
                    client=client,
                    source_kind=options["source_kind"],
                    list_name=options["list_name"],
                    source_url=options["source_url"],
                    attestation=Attestation(
                        legal_basis=options["legal_basis"],
                        text=options["attestation"],
                        collected_on=options["collected_on"],
                    ),
                    mapping=mapping,
                    sheet=options["sheet"],
                    actor=None,
                    channel=AuditEvent.Channel.COMMAND,
                )
            except ValidationError as exc:
                raise CommandError(_messages(exc)) from exc

    def _mapping(self, raw: str | None, upload: File, client: Client | None, sheet: str) -> dict:
        if raw:
            if raw.lstrip().startswith("{"):
                try:
                    return json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"The mapping is not valid JSON: {exc.msg}.") from exc
            pairs = [part.split("=", 1) for part in raw.split(",") if part.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise CommandError("Write the mapping as field=Column pairs, comma-separated.")
            return {field.strip(): column.strip() for field, column in pairs}
        layout = check_file(upload, size=upload.size, sheet=sheet)
        mapping = guess_mapping(layout.headers, client=client)
        shown = {field: layout.headers[index] for field, index in mapping.items()}
        self.stdout.write(f"Mapping: {json.dumps(shown, ensure_ascii=False)}")
        return mapping

    def _resume(self, batch_id: int, *, queue: bool) -> ImportBatch:
        batch = ImportBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"No import #{batch_id}.")
        try:
            return resume_batch(
                batch=batch, actor=None, channel=AuditEvent.Channel.COMMAND, queue=queue
            )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc

    def _progress(self, batch: ImportBatch) -> None:
        self.stdout.write(
            f"\rread {batch.rows_read:,}, merged {batch.rows_done:,} "
            f"of {batch.total_rows:,} rows: "
            f"{batch.created:,} created, {batch.merged:,} merged, {batch.rejected:,} rejected",
            ending="",
        )
        self.stdout.flush()


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
