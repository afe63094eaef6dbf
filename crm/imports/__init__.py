"""Import client-supplied and public-source lists (DESIGN rules 3 and 4; GDPR art. 5, 8, 14, 21).

A list comes with the client's attestation: the legal basis and how and when the data was
collected (for public sources, the directory or site). It becomes an `ImportBatch`; every contact
it brings in or matches gets a `ContactSource` pointing at the batch, with `informed_at` empty, so
the daily art. 14 notice tells the person (privacy/accountability/indirect_notices.py).

The work is streamed and set-based, so memory stays flat whatever the file's size and no row goes
through the ORM one by one (docs/performance.md has the figures): the file is *staged* into a
table of the batch's own, one transaction per chunk, its rows normalised on processes forked from
the worker while the worker reads and writes them in row order; the rows are *prepared* in SQL
(opted-out and repeated addresses refused, companies found or created, existing contacts
matched) in one transaction; then they are all *merged* in one more, one statement per table,
with the batch's counters. Every step is idempotent and the batch records the step it reached,
so a worker killed anywhere can be resumed and ends exactly as an uninterrupted run; re-running
the same file creates nothing twice (the provenance of a file already imported from the same
source is not added again). The uploaded file is deleted and the staging table dropped when the
batch ends.

Modules:
- `files`: reading an uploaded CSV or XLSX file (format, encoding, delimiter, sheet, header below
  blank lines, rows with NULs dropped and counted) and checking it.
- `mapping`: the contact fields a column can hold, guessing a mapping, checking a given one.
- `rows`: normalising one row of the file for the staging table, or refusing it with a reason.
- `staging`: the batch's staging table (COPY on PostgreSQL, executemany on SQLite), staging the
  file (normalised on IMPORT_STAGING_PROCESSES forked processes), and the batch's progress
  heartbeat.
- `merge`: the set-based SQL that prepares the staged rows and merges them into contacts,
  companies, provenance and rejected rows.
- `batches`: a batch's life: create, start, run, resume, discard; its counts.
- `report`: the rejected rows' CSV report.
- `admin`, `api`: the staff screens and the REST API, thin callers of the above.
"""
