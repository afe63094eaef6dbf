"""Open and click tracking: a hit buffered per request, written as events in batches.

What the privacy statement promises: an open or a click records the message, the time, the link
and the country it came from, never the IP address, and nothing at all for a person without the
tracking basis (`privacy.consent.tracking`: the sender's basis and the person's consent; never a
restricted person). A message sent without that basis has no pixel and plain links. The country
is read from a header set by a trusted proxy (only when the request comes from one of its
addresses), or looked up in an offline table of the registries' address delegations; the address
itself is dropped when the request ends.

Each request does a constant amount of work: an open only appends to a buffer shared by every web
process (a Redis list in production, a SQLite file under var/ on the embedded default); a click
carries a signed value made at sending (`tokens`: the message, the link, whether web activity may
be offered), checked in process with its link target remembered by the process, so it needs no
query either. A click link of mail sent before reads its message by the token's index (whose
campaign, was it sent tracked) and is buffered only for a tracked message. A web-activity beacon
after a click takes the same path (`visitors`). Whether an open's token is ours and its person
still trackable is decided by the flush, before anything is written: the hit of someone who
withdrew waits seconds in the buffer and is dropped.
`flush_hits` (a Celery task on the `tracking` queue, every few seconds) claims a bounded batch,
writes it as `MessageEvent`s (by COPY on PostgreSQL) with a `TrackingFlush` row in one
transaction, counts the person's own opens and clicks (never a machine's) as their activity,
then releases the batch. A
flush killed half-way finds its batch still claimed and either writes it (nothing was committed)
or skips it (the `TrackingFlush` row says it was), so no hit is lost and none is written twice.

Modules:
- `buffers`: the buffered hit (`Hit`), the claimed `Batch`, and the buffers themselves
  (`RedisHitBuffer`, `SQLiteHitBuffer`, the configured one from `hit_buffer`);
- `geo`: the visitor's country (`request_country`, `country_of_address`, the offline
  `CountryTable`s);
- `hits`: what a tracking request does (`record_open`, `signed_click_target`, `click_target`, the
  process's link cache);
- `tokens`: the signed click value (`click_token`, `read_click_token`);
- `flush`: writing buffered hits as events and visits (`flush_hits`, `write_batch`,
  `insert_events`), each open and click with its origin;
- `mail`: whether a message is tracked, and its pixel and click redirects (`decide_tracking`,
  `tracked_html`);
- `machines`: machine-made opens and clicks told from the person's (`agent_class`, `origin_of`);
- `visitors`: web activity after a click: the visitor reference, the banner's choice, the beacon;
- `texts`: the cookie banner's words; `tracker.js`: the script for the operator's website.
"""
