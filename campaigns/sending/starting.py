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

    Creating the messages of a large audience takes longer than a web request may (about 40 s
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

    The token is made by the database: on PostgreSQL base64url of 32 bytes from two random UUIDs
    (244 random bits, from its cryptographic generator); on SQLite by `secrets.token_urlsafe(32)`
    registered as an SQL function. A person already holding a message of the campaign is left out.
    """
    recipients = campaign_audience(campaign).annotate(
        recipient_id=F("pk"), version=message_language(campaign)
    )
    recipients = recipients.values("recipient_id", "version")
    audience_sql, params = recipients.query.sql_with_params()
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        token = message_token_sql(cursor)
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 -- names from the model, values as parameters.
            "(campaign_id, contact_id, token, language, variant, status, attempts, error, "
            "created_at) "
            f"SELECT %s, audience.recipient_id, {token}, audience.version, '', %s, 0, '', %s "
            f"FROM ({audience_sql}) AS audience "
            # WHERE true: SQLite needs it to read ON CONFLICT as part of the INSERT.
            "WHERE true ON CONFLICT (campaign_id, contact_id) DO NOTHING",
            [campaign.pk, Message.Status.QUEUED, timezone.now(), *params],
        )
        return cursor.rowcount


def message_token_sql(cursor) -> str:
    """Return the SQL expression of a fresh message token on this database."""
    if connection.vendor == "postgresql":
        return (
            "rtrim(translate(encode(decode(replace(gen_random_uuid()::text "
            "|| gen_random_uuid()::text, '-', ''), 'hex'), 'base64'), '+/', '-_'), '=')"
        )
    cursor.connection.create_function(
        "crm_message_token", 0, lambda: secrets.token_urlsafe(32), deterministic=False
    )
    return "crm_message_token()"


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
