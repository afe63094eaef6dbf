"""The rejected rows' report of a list import: what was refused and why, as CSV.

The file's own cells are written back with spreadsheet formulas neutralised; the download is
audited. A row refused as a child's kept no cells: the report shows only its number and reason.
"""

import csv

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.exports_csv import Writable, neutralise_formula
from crm.models import ImportBatch, ImportRejection

Reason = ImportRejection.Reason


def write_report(*, batch: ImportBatch, out: Writable, actor: Actor, channel: str) -> int:
    """Write the rejected rows as CSV (formulas neutralised) and audit the download; say how many.

    Columns: the row number, the reason, the message, then the file's own columns.
    """
    writer = csv.writer(out)
    writer.writerow(
        [neutralise_formula(cell) for cell in ["row", "reason", "message", *batch.headers]]
    )
    written = 0
    rows = batch.rejections.order_by("row_number").values_list(
        "row_number", "reason", "message", "cells"
    )
    labels = dict(Reason.choices)
    for number, reason, message, cells in rows.iterator(chunk_size=2000):
        values = [str(number), labels.get(reason, reason), message, *(cells or [])]
        writer.writerow([neutralise_formula(str(value)) for value in values])
        written += 1
    record_audit(
        actor=actor,
        action=AuditEvent.Action.EXPORTED,
        obj=batch,
        channel=channel,
        details={"import_report": written},
    )
    return written
