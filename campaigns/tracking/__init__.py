"""Open and click tracking: a hit buffered per request, written as events in batches.

What the privacy statement promises: an open or a click records the message, the time, the link
and the country it came from, never the IP address, and nothing at all for a person who turned
tracking off in the preference centre (or whose processing is restricted). The country is read
from a header set by a trusted proxy (only when the request comes from one of its addresses), or
looked up in an offline table of the registries' address delegations; the address itself is
dropped when the request ends.

Each request does a constant amount of work: an open only appends to a buffer shared by every web
process (a Redis list in production, a SQLite file under var/ on the embedded default); a click
also reads its message by the token's index (whose campaign, may its person be tracked) and its
link (remembered by the process), and is buffered only for a person who may be tracked. Whether
an open's token is ours and its person trackable is decided by the flush, before anything is
written: the hit of someone who turned tracking off waits seconds in the buffer and is dropped.
`flush_hits` (a Celery task on the `tracking` queue, every few seconds) claims a bounded batch,
writes it as `MessageEvent`s (by COPY on PostgreSQL) with a `TrackingFlush` row in one
transaction, counts the opens and clicks as the people's activity, then releases the batch. A
flush killed half-way finds its batch still claimed and either writes it (nothing was committed)
or skips it (the `TrackingFlush` row says it was), so no hit is lost and none is written twice.

Modules:
- `buffers`: the buffered hit (`Hit`), the claimed `Batch`, and the buffers themselves
  (`RedisHitBuffer`, `SQLiteHitBuffer`, the configured one from `hit_buffer`);
- `geo`: the visitor's country (`request_country`, `country_of_address`, the offline
  `CountryTable`s);
- `hits`: what a tracking request does (`record_open`, `click_target`, the process's link cache);
- `flush`: writing buffered hits as events (`flush_hits`, `write_batch`, `insert_events`).
"""
