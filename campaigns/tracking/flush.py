"""Writing buffered hits as events: a claimed batch per transaction, written once, with activity."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Message, MessageEvent, TrackedLink, TrackingFlush, WebVisit
from campaigns.tracking.buffers import CLICK, Batch, Hit, Visit, hit_buffer
from campaigns.tracking.machines import BURST_SECONDS, burst_messages, origin_of
from crm.activity import record_activities
from privacy.consent.tracking import EMAIL_TRACKING, WEB_ACTIVITY, trackable_contact_ids

# Batch rows are kept this long after their flush: far longer than any claimed batch lives.
FLUSH_ROWS_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class FlushResult:
    """What one flush did: batches and hits taken, events written, batches found written."""

    batches: int = 0
    hits: int = 0
    events: int = 0
    skipped_batches: int = 0


def flush_hits(*, batch_size: int | None = None, max_batches: int = 50) -> FlushResult:
    """Write buffered hits as events, a claimed batch per transaction, until the buffer is empty."""
    buffer = hit_buffer()
    size = batch_size or settings.TRACKING_FLUSH_BATCH
    batches = hits = events = skipped = 0
    for _ in range(max_batches):
        batch = buffer.claim(size)
        if batch is None:
            break
        written = write_batch(batch)
        buffer.release(batch)
        batches += 1
        hits += len(batch.lines)
        if written is None:
            skipped += 1
        else:
            events += written
    TrackingFlush.objects.filter(flushed_at__lt=timezone.now() - FLUSH_ROWS_KEPT).delete()
    return FlushResult(batches=batches, hits=hits, events=events, skipped_batches=skipped)


def write_batch(batch: Batch) -> int | None:
    """Write one batch's hits as events, visits and activity; return how many, None if before."""
    hits = [hit for hit in map(Hit.decode, batch.lines) if hit is not None]
    visits = [visit for visit in map(Visit.decode, batch.lines) if visit is not None]
    rows = _event_rows(hits)
    visit_rows = _visit_rows(visits)
    try:
        with transaction.atomic():
            if TrackingFlush.objects.filter(batch=batch.id).exists():
                return None
            TrackingFlush.objects.create(
                batch=batch.id, hits=len(batch.lines), events=len(rows) + len(visit_rows)
            )
            insert_events([row for row, _ in rows])
            _mark_earlier_bursts(rows)
            insert_visits(visit_rows)
            # Only the person's own doing is activity; to the minute: the inactivity rules count
            # in years, and it keeps the statements few.
            latest: dict[int, datetime] = {}
            own = [(r.occurred_at, c) for r, c in rows if r.origin == MessageEvent.Origin.HUMAN]
            own += [(visit.occurred_at, visit.contact_id) for visit in visit_rows]
            for occurred_at, contact_id in own:
                minute = occurred_at.replace(second=0, microsecond=0)
                if contact_id not in latest or latest[contact_id] < minute:
                    latest[contact_id] = minute
            record_activities(moments=latest)
    except IntegrityError:
        # Another flush wrote the same claimed batch at the same moment.
        return None
    return len(rows) + len(visit_rows)


class EventRow(NamedTuple):
    """One event to insert, its columns in table order."""

    message_id: int
    campaign_id: int
    kind: str
    link_id: int | None
    country: str
    detail: str
    occurred_at: datetime
    origin: str


def insert_events(rows: list[EventRow]) -> None:
    """Insert event rows in the current transaction: COPY on PostgreSQL, bulk_create elsewhere.

    COPY takes a fifth of the time of Django's multi-row INSERT for a batch of thousands, which
    matters on a machine whose web processes share the cores with the flush.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = MessageEvent._meta.db_table
        columns = ", ".join(f'"{name}"' for name in EventRow._fields)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    MessageEvent.objects.bulk_create(
        (MessageEvent(**row._asdict()) for row in rows), batch_size=500
    )


VISIT_COLUMNS = (
    "contact_id",
    "campaign_id",
    "kind",
    "host",
    "path",
    "title",
    "referrer_domain",
    "occurred_at",
)


def insert_visits(visits: list[WebVisit]) -> None:
    """Insert web visits in the current transaction: COPY on PostgreSQL, like the events."""
    if not visits:
        return
    if connection.vendor == "postgresql":
        table = WebVisit._meta.db_table
        columns = ", ".join(f'"{name}"' for name in VISIT_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy,
        ):
            for visit in visits:
                copy.write_row(tuple(getattr(visit, name) for name in VISIT_COLUMNS))
        return
    WebVisit.objects.bulk_create(visits, batch_size=500)


def _trackable_messages(tokens: set[str]) -> dict[str, tuple[int, int, int, datetime | None]]:
    """Map the tokens of tracked messages whose person may still be tracked to their ids.

    The basis is read as it is now: a hit of someone who withdrew since the mail left is dropped.
    """
    found = list(
        Message.objects.filter(token__in=tokens, tracked=True, contact__isnull=False).values_list(
            "token", "pk", "campaign_id", "contact_id", "campaign__client_id", "sent_at"
        )
    )
    by_sender: dict[int | None, set[int]] = {}
    for _, _, _, contact_id, client_id, _ in found:
        by_sender.setdefault(client_id, set()).add(contact_id)
    allowed = {
        (client_id, contact_id)
        for client_id, ids in by_sender.items()
        for contact_id in trackable_contact_ids(
            client_id=client_id, contact_ids=ids, purpose_code=EMAIL_TRACKING
        )
    }
    return {
        token: (pk, campaign_id, contact_id, sent_at)
        for token, pk, campaign_id, contact_id, client_id, sent_at in found
        if (client_id, contact_id) in allowed
    }


def _event_rows(hits: Iterable[Hit]) -> list[tuple[EventRow, int]]:
    """Turn hits into event rows with their person and origin; drop unknown or untracked ones."""
    hits = list(hits)
    messages = _trackable_messages({hit.token for hit in hits})
    link_ids = {hit.link_id for hit in hits if hit.kind == CLICK and isinstance(hit.link_id, int)}
    links = dict(
        TrackedLink.objects.filter(pk__in=link_ids).values_list("pk", "campaign_id")
        if link_ids
        else []
    )
    kept = []
    for hit in hits:
        known = messages.get(hit.token)
        if known is None:
            continue
        if hit.kind == CLICK and links.get(hit.link_id) != known[1]:
            continue
        kept.append((hit, known))
    bursts = _bursts([(known[0], hit) for hit, known in kept if hit.kind == CLICK])
    seconds = settings.TRACKING_MACHINE_SECONDS
    rows = []
    for hit, (message_id, campaign_id, contact_id, sent_at) in kept:
        at = datetime.fromtimestamp(hit.at, tz=UTC)
        if hit.kind == CLICK:
            kind, link_id = MessageEvent.Kind.CLICKED.value, hit.link_id
        else:
            kind, link_id = MessageEvent.Kind.OPENED.value, None
        origin = origin_of(
            agent=hit.agent if isinstance(hit.agent, str) else "",
            at=at,
            sent_at=sent_at,
            machine_seconds=seconds,
            burst=hit.kind == CLICK and message_id in bursts,
        )
        country = hit.country if isinstance(hit.country, str) and len(hit.country) == 2 else ""
        row = EventRow(
            message_id=message_id,
            campaign_id=campaign_id,
            kind=kind,
            link_id=link_id,
            country=country,
            detail="",
            occurred_at=at,
            origin=origin,
        )
        rows.append((row, contact_id))
    return rows


def _bursts(clicks: list[tuple[int, Hit]]) -> set[int]:
    """Return the messages whose clicks, with those written just before, hit every link at once."""
    if not clicks:
        return set()
    earliest = datetime.fromtimestamp(min(hit.at for _, hit in clicks), tz=UTC)
    written = MessageEvent.objects.filter(
        message_id__in={message_id for message_id, _ in clicks},
        kind=MessageEvent.Kind.CLICKED,
        occurred_at__gte=earliest - timedelta(seconds=BURST_SECONDS),
    ).values_list("message_id", "link_id", "occurred_at")
    moments = [(m, hit.link_id, datetime.fromtimestamp(hit.at, tz=UTC)) for m, hit in clicks]
    return burst_messages([*moments, *written])


def _mark_earlier_bursts(rows: list[tuple[EventRow, int]]) -> None:
    """Mark as a machine's the clicks written just before that began a burst found now."""
    first: dict[int, datetime] = {}
    machine_clicks = (
        row
        for row, _ in rows
        if row.kind == MessageEvent.Kind.CLICKED and row.origin == MessageEvent.Origin.MACHINE
    )
    for row in machine_clicks:
        if row.message_id not in first or row.occurred_at < first[row.message_id]:
            first[row.message_id] = row.occurred_at
    window = timedelta(seconds=BURST_SECONDS)
    pending = list(first.items())
    for start in range(0, len(pending), 500):
        earlier = Q()
        for message_id, at in pending[start : start + 500]:
            earlier |= Q(message_id=message_id, occurred_at__gte=at - window, occurred_at__lt=at)
        MessageEvent.objects.filter(earlier, kind=MessageEvent.Kind.CLICKED).exclude(
            origin=MessageEvent.Origin.MACHINE
        ).update(origin=MessageEvent.Origin.MACHINE)


def _visit_rows(visits: list[Visit]) -> list[WebVisit]:
    """Turn buffered visits into rows; drop those of people the sender may no longer track."""
    if not visits:
        return []
    campaigns = dict(
        Campaign.objects.filter(
            pk__in={visit.campaign_id for visit in visits if visit.campaign_id}
        ).values_list("pk", "client_id")
    )
    by_sender: dict[int | None, set[int]] = {}
    for visit in visits:
        by_sender.setdefault(campaigns.get(visit.campaign_id), set()).add(visit.contact_id)
    allowed = {
        (client_id, contact_id)
        for client_id, ids in by_sender.items()
        for contact_id in trackable_contact_ids(
            client_id=client_id, contact_ids=ids, purpose_code=WEB_ACTIVITY
        )
    }
    return [
        WebVisit(
            contact_id=visit.contact_id,
            campaign_id=visit.campaign_id if visit.campaign_id in campaigns else None,
            kind=visit.kind,
            host=visit.host,
            path=visit.path,
            title=visit.title,
            referrer_domain=visit.referrer_domain,
            occurred_at=datetime.fromtimestamp(visit.at, tz=UTC),
        )
        for visit in visits
        if (campaigns.get(visit.campaign_id), visit.contact_id) in allowed
        and visit.kind in WebVisit.Kind.values
    ]
