"""Starting a campaign: one queued message per person of the audience, then its batches."""

import logging
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import links
from campaigns.audience import campaign_audience
from campaigns.content import contents, message_language
from campaigns.models import Campaign, Message, TrackedLink
from campaigns.sending.ab_test import split_for_test
from campaigns.sending.batches import queue_batches
from campaigns.sending.states import (
    Status,
    change_status,
    check_every_version,
    check_segment_rules,
    locked_campaign,
    require_transition,
)
from core.actors import Actor
from core.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

START_CAMPAIGN = "campaigns.tasks.start_campaign"


def start_sending(*, campaign: Campaign, actor: Actor = None, on_workers: bool = True) -> int:
    """Create the messages of the audience and the tracked links, mark the campaign sending.

    Return how many messages were created. The batches are queued for the sending workers in the
    same transaction (through the outbox), unless `on_workers` is False (the caller sends them).
    """
    with transaction.atomic():
        campaign = locked_campaign(campaign.pk)
        require_transition(campaign, Status.SENDING)
        check_every_version(campaign)
        check_segment_rules(campaign)
        for url in campaign_links(campaign):
            TrackedLink.objects.get_or_create(campaign=campaign, url=url)
        created = create_messages(campaign)
        held = split_for_test(campaign) if campaign.subject_b else 0
        campaign.started_at = timezone.now()
        change_status(campaign, Status.SENDING, actor, messages=created, held=held)
        if on_workers:
            queue_batches(campaign.pk)
    logger.info("Campaign %s started: %s messages", campaign.pk, created)
    return created


def request_start(*, campaign: Campaign, actor: Actor = None) -> None:
    """Check that the campaign may start now, and have a sending worker start it.

    Creating the messages of a large audience takes longer than a web request may (about 5 s
    for 600,000 people), so the admin asks for it and the worker does it. The checks are
    repeated by `start_sending`, which changes nothing when they no longer hold.
    """
    require_transition(campaign, Status.SENDING)
    check_every_version(campaign)
    check_segment_rules(campaign)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    enqueue_on_commit(START_CAMPAIGN, campaign.pk, actor_id)


def campaign_links(campaign: Campaign) -> list[str]:
    """Return the links of every language version and of the layout, each once, in order."""
    sources = [content.html_body for content in contents(campaign).values()]
    if campaign.layout is not None:
        sources.append(campaign.layout.html)
    return list(dict.fromkeys(url for source in sources for url in links.trackable_links(source)))


def create_messages(campaign: Campaign) -> int:
    """Insert one queued message per audience member with a fresh token, in one statement.

    Each message keeps the language version its reader gets (`campaigns.content.message_language`).
    The token is made by the database (`message_token_sql`). No `ON CONFLICT` check (a sixth of
    the statement's time): a campaign starts once, its status changed in the same transaction,
    so nobody holds one of its messages yet; if someone did, the `once` constraint would refuse
    the whole start.
    """
    recipients = campaign_audience(campaign).annotate(
        recipient_id=F("pk"), version=message_language(campaign)
    )
    recipients = recipients.values("recipient_id", "version")
    audience_sql, params = recipients.query.sql_with_params()
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        message_id, token = message_token_sql(cursor)
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 -- names from the model, values as parameters.
            "(id, campaign_id, contact_id, token, language, variant, status, attempts, error, "
            "created_at) "
            f"SELECT audience.id, %s, audience.recipient_id, {token}, audience.version, '', %s, "
            "0, '', %s "
            f"FROM (SELECT {message_id} AS id, recipients.* FROM ({audience_sql}) AS recipients) "
            "AS audience",
            [campaign.pk, Message.Status.QUEUED, timezone.now(), *params],
        )
        return cursor.rowcount


def message_token_sql(cursor) -> tuple[str, str]:
    """Return the SQL of a new message's id and of its token, which reads the id as `audience.id`.

    On PostgreSQL the id is drawn from the table's sequence in the SELECT, so that the token can
    begin with it: 16 hexadecimal digits of the id, then the 22 base64url characters of a random
    UUID (122 random bits, from the database's cryptographic generator; one UUID, not two: each
    costs about 1.5 µs a row). Beginning with the id, each new token sorts after the ones before,
    so the token's unique index grows at its right edge like the primary key, instead of touching
    a random page of a large index for every row (a third of the time of creating a large
    campaign's messages). The id tells nothing the click links do not already carry; the random
    part is what makes the token unguessable. Tokens made before keep working: a token is only
    ever looked up whole. On SQLite the id is NULL, which the table replaces by the next one, and
    the token is `secrets.token_urlsafe(32)` registered as an SQL function.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Message._meta.db_table])
        (sequence,) = cursor.fetchone()
        return (
            f"nextval('{sequence}')",
            "lpad(to_hex(audience.id), 16, '0') || "
            "rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')",
        )
    cursor.connection.create_function(
        "crm_message_token", 0, lambda: secrets.token_urlsafe(32), deterministic=False
    )
    return "NULL", "crm_message_token()"


def start_due_campaigns(*, now: datetime | None = None) -> list[int]:
    """Start every scheduled campaign whose time has come; return their ids."""
    due = Campaign.objects.filter(
        status=Status.SCHEDULED, scheduled_at__lte=now or timezone.now()
    ).values_list("pk", flat=True)
    started = []
    for campaign_id in due:
        try:
            start_sending(campaign=Campaign(pk=campaign_id))
        except ValidationError:
            # Changed or cancelled by staff meanwhile: their decision stands.
            logger.warning("Scheduled campaign %s could not start", campaign_id)
            continue
        started.append(campaign_id)
    return started
