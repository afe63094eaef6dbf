"""Read an uploaded list: CSV in any common encoding and delimiter, or XLSX, as rows of text.

The format is told by the content, not the name: a ZIP container is XLSX (read with openpyxl in
read-only mode, one row at a time, so memory stays flat whatever the size), anything else is read
as delimited text. Text is UTF-8 (with or without byte-order mark) or UTF-16 when it says so or
looks so, else Windows-1252 (Latin-1 for the few bytes Windows-1252 leaves undefined). Bad files
are refused with a message a person can act on, before anything is stored (`check_file`, with the
size limit of the settings).

Files as they really come are read rather than refused: blank lines above the header are skipped
(the header is the first row holding something); a NUL character, which no database column can
hold, is dropped and counted for the report; a vertical tab or form feed inside a cell (FileMaker
writes a line break inside a field so) becomes a line break. A workbook with several sheets
holding data is imported only once the sheet is named: reading the first one without saying so
would quietly leave the others out.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError

from crm.models import ImportBatch

SAMPLE_BYTES = 64 * 1024
PREVIEW_ROWS = 5
DELIMITERS = (",", ";", "\t", "|")
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls) and other old Office files
# Characters no text list contains: more than a few of them means the file is not text. Vertical
# tab and form feed are FileMaker's line breaks inside a field.
CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r", "\v", "\f"}
LINE_BREAKS = str.maketrans({"\v": "\n", "\f": "\n"})
NEWLINES = re.compile(r"\r\n|\r|\n")
# How far down a sheet a workbook is looked at to tell whether the sheet holds data.
SHEET_PROBE_ROWS = 100


@dataclass(frozen=True)
class FileLayout:
    """What reading the start of a file found: format, encoding, delimiter, header, first rows."""

    file_format: str
    encoding: str
    delimiter: str
    headers: list[str]
    preview: list[list[str]]
    estimated_rows: int
    sheet: str = ""


@dataclass(frozen=True)
class Row:
    """One row below the header: its number as a spreadsheet shows it, its cells, NULs dropped."""

    number: int
    cells: list[str]
    nul_bytes: int


def inspect_file(handle: BinaryIO, *, size: int, max_bytes: int, sheet: str = "") -> FileLayout:
    """Return the file's layout; raise ValidationError for an empty, binary or too large file.

    For a workbook, `sheet` names the sheet to read; without it, a workbook with several sheets
    holding data is refused (error on "sheet", listing them).
    """
    if size == 0:
        raise ValidationError({"file": "The file is empty."}, code="empty")
    if size > max_bytes:
        raise ValidationError(
            {
                "file": f"The file is {size / 1_000_000:.1f} MB; the limit is "
                f"{max_bytes / 1_000_000:.0f} MB. Split the list into smaller files."
            },
            code="too_large",
        )
    handle.seek(0)
    head = handle.read(SAMPLE_BYTES)
    if head.startswith(OLE_MAGIC):
        raise ValidationError(
            {"file": "This is an old Excel (.xls) file: save it as .xlsx or CSV and upload again."},
            code="binary",
        )
    if head.startswith(XLSX_MAGIC):
        layout = _inspect_xlsx(handle, sheet)
    else:
        layout = _inspect_text(handle, head, size)
    if not any(layout.headers):
        raise ValidationError({"file": "The file holds no rows."}, code="empty")
    if not layout.preview:
        raise ValidationError(
            {"file": "The file has a header row but no rows below it."}, code="empty"
        )
    return layout


def read_rows(handle: BinaryIO, layout: FileLayout) -> Iterator[Row]:
    """Yield the rows below the header, cleaned, blank rows skipped but counted.

    Rows are numbered as a spreadsheet shows them: the first row of the file is row 1, blank
    lines above the header included.
    """
    handle.seek(0)
    _, rows = _header_and_rows(_all_rows(handle, layout))
    for row in rows:
        if not _is_blank(row.cells):
            yield row


def check_file(handle: BinaryIO, *, size: int, sheet: str = "") -> FileLayout:
    """Return the file's layout; raise ValidationError for an empty, binary or too large file."""
    return inspect_file(handle, size=size, max_bytes=settings.IMPORT_MAX_FILE_BYTES, sheet=sheet)


def preview(batch: ImportBatch) -> FileLayout:
    """Return the stored file's header and first rows, for the mapping step."""
    with batch.file.open("rb") as handle:
        return check_file(handle, size=batch.file_size, sheet=batch.sheet)


def stored_sheet_names(batch: ImportBatch) -> list[str]:
    """Return the names of the sheets holding data in the batch's stored workbook."""
    with batch.file.open("rb") as handle:
        return sheet_names(handle)


def sheet_names(handle: BinaryIO) -> list[str]:
    """Return the names of a workbook's sheets that hold data; [] for a file that is not one."""
    handle.seek(0)
    if not handle.read(len(XLSX_MAGIC)).startswith(XLSX_MAGIC):
        return []
    try:
        workbook = _open_workbook(handle)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return []
    try:
        return _filled_sheets(workbook)
    finally:
        workbook.close()


def _all_rows(handle: BinaryIO, layout: FileLayout) -> Iterator[Row]:
    """Yield every row of the file, numbered from 1, its cells cleaned."""
    if layout.file_format == "xlsx":
        rows = _xlsx_rows(handle, layout.sheet)
    else:
        rows = _text_rows(handle, layout)
    for number, cells in enumerate(rows, start=1):
        if not _needs_cleaning("".join(cells)):
            yield Row(number, cells, 0)
            continue
        cleaned, nul_bytes = [], 0
        for cell in cells:
            if "\x00" in cell:
                nul_bytes += cell.count("\x00")
                cell = cell.replace("\x00", "")
            # translate() costs about half a microsecond a cell even with nothing to change.
            cleaned.append(cell.translate(LINE_BREAKS) if "\v" in cell or "\f" in cell else cell)
        yield Row(number, cleaned, nul_bytes)


def _header_and_rows(rows: Iterator[Row]) -> tuple[Row | None, Iterator[Row]]:
    """Return the header (the first row holding something) and the rows after it."""
    for row in rows:
        if not _is_blank(row.cells):
            return row, rows
    return None, rows


def _needs_cleaning(text: str) -> bool:
    """Say whether a row's text holds a NUL, vertical tab or form feed (rarely: look once a row)."""
    return "\x00" in text or "\v" in text or "\f" in text


def _is_blank(cells: list[str]) -> bool:
    return not any(map(str.strip, cells))


def _first_rows(rows: Iterator[Row]) -> tuple[list[str], list[list[str]]]:
    """Return the header's names and the first rows below it, for the preview."""
    header, rest = _header_and_rows(rows)
    preview = []
    for row in rest:
        if not _is_blank(row.cells):
            preview.append(row.cells)
            if len(preview) == PREVIEW_ROWS:
                break
    return [cell.strip() for cell in header.cells] if header else [], preview


def _inspect_text(handle: BinaryIO, head: bytes, size: int) -> FileLayout:
    encoding = _detect_encoding(handle, head)
    sample = head.decode(encoding, errors="ignore")
    # A NUL here and there is dropped while reading; many of them, or other controls, mean binary.
    nuls = sample.count("\x00")
    controls = sum(char in CONTROL for char in sample) - nuls
    if controls > len(sample) // 100 or nuls > len(sample) // 10:
        raise ValidationError(
            {"file": "This is not a text (CSV) or Excel (XLSX) file."}, code="binary"
        )
    lines = NEWLINES.split(sample)
    if size > SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut short
    delimiter = _detect_delimiter([line for line in lines if line.strip("".join(DELIMITERS))])
    layout = FileLayout("csv", encoding, delimiter, [], [], 0)
    handle.seek(0)
    headers, preview = _first_rows(_all_rows(handle, layout))
    # A line in the sample stands for about that many bytes of the file.
    estimated = max(len(preview), int(size / max(1, len(head) / max(1, len(lines)))) - 1)
    return FileLayout("csv", encoding, delimiter, _named(headers), preview, estimated)


def _detect_encoding(handle: BinaryIO, head: bytes) -> str:
    """Tell the encoding from the byte-order mark, the zero bytes of UTF-16, or a full decode."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    even, odd = head[0::2], head[1::2]
    # ASCII text in UTF-16 has a zero byte in every other position.
    if len(head) >= 4 and odd.count(0) > len(odd) * 0.4 and even.count(0) == 0:
        return "utf-16-le"
    if len(head) >= 4 and even.count(0) > len(even) * 0.4 and odd.count(0) == 0:
        return "utf-16-be"
    # UTF-8 only if the whole file decodes: one é from Latin-1 deep in the list would break it.
    decoder = codecs.getincrementaldecoder("utf-8")()
    handle.seek(0)
    try:
        while chunk := handle.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        handle.seek(0)
        try:
            while chunk := handle.read(1024 * 1024):
                chunk.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "utf-8"


def _detect_delimiter(lines: list[str]) -> str:
    """Pick the delimiter that splits the sample's lines into the most, equally many, columns."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines[:50], delimiter=delimiter) if row]
        if not widths:
            continue
        header_width = widths[0]
        agreeing = sum(width == header_width for width in widths)
        score = (agreeing, header_width) if header_width > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _text_rows(handle: BinaryIO, layout: FileLayout) -> Iterator[list[str]]:
    text = io.TextIOWrapper(handle, encoding=layout.encoding, errors="replace", newline="")
    try:
        yield from csv.reader(text, delimiter=layout.delimiter)
    finally:
        text.detach()  # leave the underlying file open for the caller


def _inspect_xlsx(handle: BinaryIO, sheet: str) -> FileLayout:
    try:
        chosen = _choose_sheet(handle, sheet)
        layout = FileLayout("xlsx", "", "", [], [], 0, chosen)
        headers, preview = _first_rows(_all_rows(handle, layout))
        estimated = _xlsx_dimension(handle, chosen)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(
            {"file": "This ZIP file is not a readable Excel (XLSX) workbook."}, code="binary"
        ) from exc
    estimated = max(estimated - 1, len(preview))
    return FileLayout("xlsx", "", "", _named(headers), preview, estimated, chosen)


def _choose_sheet(handle: BinaryIO, sheet: str) -> str:
    """Return the sheet to read: the one named, else the only one holding data."""
    workbook = _open_workbook(handle)
    try:
        names = workbook.sheetnames
        if sheet:
            if sheet not in names:
                raise ValidationError(
                    {
                        "sheet": ValidationError(
                            f"The workbook has no sheet named {sheet!r}; its sheets are: "
                            f"{_listed(names)}.",
                            code="no_sheet",
                        )
                    }
                )
            return sheet
        filled = _filled_sheets(workbook) if len(names) > 1 else names
        if len(filled) > 1:
            raise ValidationError(
                {
                    "sheet": ValidationError(
                        f"This workbook has {len(filled)} sheets holding data: "
                        f"{_listed(filled)}. Choose the one to import.",
                        code="several_sheets",
                    )
                }
            )
        return (filled or names)[0]
    finally:
        workbook.close()


def _filled_sheets(workbook) -> list[str]:
    """Return the names of the sheets with something in their first rows."""
    filled = []
    for worksheet in workbook.worksheets:
        rows = worksheet.iter_rows(max_row=SHEET_PROBE_ROWS, values_only=True)
        if any(value not in (None, "") for values in rows for value in values):
            filled.append(worksheet.title)
    return filled


def _listed(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _open_workbook(handle: BinaryIO):
    # Imported here: openpyxl is large and only XLSX uploads need it.
    from openpyxl import load_workbook

    handle.seek(0)
    # data_only: the values the client saw, never a formula to evaluate.
    return load_workbook(handle, read_only=True, data_only=True)


def _xlsx_dimension(handle: BinaryIO, sheet: str) -> int:
    workbook = _open_workbook(handle)
    try:
        return workbook[sheet].max_row or 0
    finally:
        workbook.close()


def _xlsx_rows(handle: BinaryIO, sheet: str) -> Iterator[list[str]]:
    workbook = _open_workbook(handle)
    try:
        # A batch from before sheets were recorded read the first one.
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        for values in worksheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """Return a spreadsheet cell as the text a person would type: 31201234567, not 3.12e10."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _named(headers: list[str]) -> list[str]:
    """Give unnamed columns a name people can pick in the mapping: "Column 3"."""
    return [name or f"Column {number}" for number, name in enumerate(headers, start=1)]
