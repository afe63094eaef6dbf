"""A person with a long history: the first page of their timeline, and merging two such people.

In the shared bench database, inside one transaction that is rolled back at the end (nothing
stays): one contact gets `BENCH_SCALE` history rows (default 100,000), six in ten of them opens
and clicks of messages from 20 campaigns, two in ten consent events, two in ten interactions.
Measured:

1. the timeline's first page (`crm.timeline.contact_timeline`, as a superuser sees it: every
   source, the audit trail included) and the API's `GET /api/v1/contacts/<id>/timeline/`, each
   the median of 10 after 2 warm-ups; the floor is one plain SQL statement reading the newest 25
   rows of the three big sources for that person;
2. a merge (`privacy.merging.merge_contacts`) of two people with half as many rows each (50,000 at
   the default scale); the floor is the same re-pointing done by plain `UPDATE` statements, one
   per table, on a copy of the same data in the same run.
"""

import secrets
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.admin_contacts import superuser
from bench.measuring import Figure
from campaigns.models import Message, MessageEvent
from crm.models import Contact, Interaction
from crm.timeline import contact_timeline
from privacy.merging import merge_contacts
from privacy.models import ConsentEvent
from tests.campaigns.factories import CampaignFactory
from tests.privacy.factories import PurposeFactory
from tests.two_factor import mark_verified

CAMPAIGNS = 20
RUNS = 10
WARMUPS = 2
CHUNK = 5_000


class Rollback(Exception):
    """Raised to roll the benchmark's rows back once measured."""


def run(*, scale: int) -> list[Figure]:
    """Seed, measure the timeline and the merge, print a table, and roll everything back."""
    figures: list[Figure] = []
    try:
        with transaction.atomic():
            figures += _timeline(scale)
            figures += _merge(scale // 2)
            raise Rollback
    except Rollback:
        pass
    print(f"\ncontact_history: {scale:,} rows for the timeline, {scale // 2:,} per merged record")
    print(f"{'metric':<34}{'value':>12}{'floor':>12}")
    for figure in figures:
        floor = f"{figure.floor:.1f}" if figure.floor is not None else "-"
        print(f"{figure.metric:<34}{figure.value:>10.1f}{figure.unit:>2}{floor:>12}")
    return figures


def _timeline(rows: int) -> list[Figure]:
    contact = Contact.objects.create(first_name="Long", last_name="History")
    _seed_history(contact, rows)
    user = superuser()
    selector = _median(lambda: contact_timeline(contact=contact, user=user))
    client = Client()
    client.force_login(user)
    mark_verified(client, user)
    url = f"/api/v1/contacts/{contact.pk}/timeline/"
    api = _median(lambda: _get(client, url))
    floor = _median(lambda: _timeline_floor(contact.pk))
    return [
        Figure("timeline_first_page_selector", selector, "ms", floor=floor),
        Figure("timeline_first_page_api", api, "ms", floor=floor),
    ]


def _merge(rows: int) -> list[Figure]:
    user = superuser()
    keep, duplicate = _pair(rows)
    start = time.perf_counter()
    merge_contacts(keep=keep, duplicate=duplicate, actor=user, channel="command")
    merged = (time.perf_counter() - start) * 1000
    keep, duplicate = _pair(rows)
    start = time.perf_counter()
    _merge_floor(keep.pk, duplicate.pk)
    floor = (time.perf_counter() - start) * 1000
    return [Figure("merge_two_contacts", merged, "ms", floor=floor)]


def _pair(rows: int) -> tuple[Contact, Contact]:
    pair = []
    for name in ("Keep", "Duplicate"):
        contact = Contact.objects.create(first_name=name, last_name="Twin")
        _seed_history(contact, rows)
        pair.append(contact)
    return pair[0], pair[1]


def _seed_history(contact: Contact, rows: int) -> None:
    """Give the contact `rows` rows: opens and clicks, consent events, interactions."""
    now = timezone.now()
    purpose = PurposeFactory()
    messages = []
    for _ in range(CAMPAIGNS):
        campaign = CampaignFactory(sent=True, purpose=purpose)
        messages.append(
            Message.objects.create(
                campaign=campaign,
                contact=contact,
                token=secrets.token_urlsafe(32),
                status=Message.Status.SENT,
                sent_at=now - timedelta(days=400),
            )
        )
    events, consents, notes = rows * 6 // 10, rows * 2 // 10, rows - rows * 8 // 10
    _bulk(
        MessageEvent,
        (
            MessageEvent(
                message=messages[i % CAMPAIGNS],
                campaign_id=messages[i % CAMPAIGNS].campaign_id,
                kind=MessageEvent.Kind.OPENED if i % 3 else MessageEvent.Kind.CLICKED,
                occurred_at=now - timedelta(minutes=i),
            )
            for i in range(events)
        ),
    )
    _bulk(
        ConsentEvent,
        (
            ConsentEvent(
                contact=contact,
                purpose=purpose,
                action=ConsentEvent.Action.GRANT if i % 2 else ConsentEvent.Action.WITHDRAW,
                wording=purpose.consent_text,
                channel=ConsentEvent.Channel.WEB_FORM,
                occurred_at=now - timedelta(minutes=i, seconds=20),
            )
            for i in range(consents)
        ),
    )
    _bulk(
        Interaction,
        (
            Interaction(
                contact=contact,
                kind=Interaction.Kind.CALL,
                subject="Call",
                occurred_at=now - timedelta(minutes=i, seconds=40),
            )
            for i in range(notes)
        ),
    )


def _bulk(model, objects) -> None:
    batch = []
    for obj in objects:
        batch.append(obj)
        if len(batch) == CHUNK:
            model.objects.bulk_create(batch)
            batch = []
    model.objects.bulk_create(batch)


def _timeline_floor(contact_id: int) -> None:
    """Read the newest 25 rows of the three big sources in one plain SQL statement."""
    sql = (
        "SELECT at, id FROM ("
        " SELECT at, id FROM (SELECT e.occurred_at AS at, e.id FROM campaigns_messageevent e"
        "  JOIN campaigns_message m ON m.id = e.message_id WHERE m.contact_id = %s"
        "  ORDER BY e.occurred_at DESC LIMIT 26) AS opens"
        " UNION ALL SELECT at, id FROM (SELECT occurred_at AS at, id FROM privacy_consentevent"
        "  WHERE contact_id = %s ORDER BY occurred_at DESC LIMIT 26) AS consents"
        " UNION ALL SELECT at, id FROM (SELECT occurred_at AS at, id FROM crm_interaction"
        "  WHERE contact_id = %s ORDER BY occurred_at DESC LIMIT 26) AS notes"
        ") AS newest ORDER BY at DESC LIMIT 25"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [contact_id] * 3)
        cursor.fetchall()


def _merge_floor(keep_id: int, duplicate_id: int) -> None:
    """Re-point the duplicate's rows at the kept record with one plain UPDATE per table."""
    with connection.cursor() as cursor:
        for table in ("campaigns_message", "privacy_consentevent", "crm_interaction"):
            cursor.execute(
                f"UPDATE {table} SET contact_id = %s WHERE contact_id = %s",  # noqa: S608
                [keep_id, duplicate_id],
            )


def _median(call: Callable[[], object]) -> float:
    for _ in range(WARMUPS):
        call()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200.")
