"""Sending a campaign: its states, one message per recipient, batches, retries and one copy each.

When sending starts, one `Message` per person of the audience is created in a single INSERT …
SELECT, each with an opaque random token, and the body's links become `TrackedLink` rows. Celery
tasks then send batches through Django's e-mail backend, one SMTP connection per batch. Just before
each batch the audience rules are applied again to its recipients: an opt-out, objection,
restriction, bounce or erasure after the start wins and the message is skipped.

Never two copies to one person (at-most-once), and nothing lost that was never tried:
1. a batch is claimed first (status SENDING, `claimed_at`) in its own committed transaction, so
   no other worker and no re-delivered task takes the same messages;
2. before messages are handed to the mail server, their `sent_at` is committed, for the next
   SENDING_HANDOVER_GROUP messages at a time: from then on none of them is handed over again by
   anyone, whatever happens;
3. after the server accepts one, it is marked SENT (committed with the next group's mark, and
   before the rate limiter sleeps).
If a worker dies, its claimed messages without `sent_at` were never handed over and go back to the
queue when their claim expires (`resume_stalled_sending`). Those of its current group (`sent_at`
set, not SENT) have an unknown outcome: each is marked failed with that reason and never sent
again. This is the trade-off chosen, at-most-once: a dead worker may lose up to one group (one
message with a group of 1, the exact setting; the default of 10 commits ten times less often),
and never duplicates one. A server that answers with an error code has not taken
the message: 4xx is retried with backoff, 5xx fails. A connection lost during a hand-over is an
unknown outcome too, never retried.
"""

import logging
import secrets
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from campaigns import links
from campaigns.audience import campaign_audience, eligible
from campaigns.models import Campaign, Message, TrackedLink
from campaigns.templating import check_template, render
from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Contact

logger = logging.getLogger(__name__)

Status = Campaign.Status
LEGAL_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SCHEDULED, Status.SENDING, Status.CANCELLED}),
    Status.SCHEDULED: frozenset({Status.DRAFT, Status.SENDING, Status.CANCELLED}),
    Status.SENDING: frozenset({Status.SENT, Status.CANCELLED}),
    Status.SENT: frozenset(),
    Status.CANCELLED: frozenset(),
}
CHANNEL = "campaigns"
SKIPPED_REASON = "No longer in the audience when its turn came (opt-out, restriction, bounce)."
CANCELLED_REASON = "The campaign was cancelled before its turn."
UNKNOWN_OUTCOME = "Outcome unknown: the hand-over to the mail server was cut off; never resent."
# Sent messages are marked in one statement at most this many at a time (without a rate limit).
MARK_SENT_EVERY = 50


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch did: messages sent, skipped, failed, retried later, and left unsure."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: tuple[int, ...] = ()
    unknown: int = 0
    released: int = 0


class SendingInterrupted(Exception):
    """The mail server could not be reached; the batch's untried messages went back to the queue."""


# Content and states -----------------------------------------------------------------------------


def check_campaign_content(*, subject: str, html_body: str, text_body: str) -> None:
    """Raise ValidationError, per field and with line numbers, for any refused template syntax."""
    errors = {}
    for name, source in (("subject", subject), ("html_body", html_body), ("text_body", text_body)):
        try:
            check_template(source)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)


def require_transition(campaign: Campaign, target: str) -> None:
    """Raise ValidationError unless the campaign may go from its status to `target`."""
    if target not in LEGAL_TRANSITIONS[campaign.status]:
        raise ValidationError(
            f"A {campaign.get_status_display().lower()} campaign cannot become "
            f"{Status(target).label.lower()}."
        )


def _locked(campaign_id: int) -> Campaign:
    # Lock the campaign row only: the client is an outer join, which FOR UPDATE cannot lock.
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("purpose", "client")
        .get(pk=campaign_id)
    )


def _change_status(campaign: Campaign, target: str, actor: Actor, **details) -> None:
    previous = campaign.status
    campaign.status = target
    campaign.save(update_fields=["status", "scheduled_at", "started_at", "finished_at"])
    record_audit(
        actor=actor,
        action=AuditEvent.Action.CHANGED,
        obj=campaign,
        channel=CHANNEL,
        fields=["status"],
        details={"from": previous, "to": target, **details},
    )


def schedule_campaign(*, campaign: Campaign, at: datetime, actor: Actor = None) -> Campaign:
    """Schedule the campaign to start at `at` (in the future); the beat task starts it then."""
    if at <= timezone.now():
        raise ValidationError({"scheduled_at": "Choose a time in the future."})
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        require_transition(campaign, Status.SCHEDULED)
        check_campaign_content(
            subject=campaign.subject, html_body=campaign.html_body, text_body=campaign.text_body
        )
        campaign.scheduled_at = at
        _change_status(campaign, Status.SCHEDULED, actor, scheduled_at=at.isoformat())
    return campaign


def unschedule_campaign(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """Take a scheduled campaign back to draft, so it can be edited."""
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        require_transition(campaign, Status.DRAFT)
        campaign.scheduled_at = None
        _change_status(campaign, Status.DRAFT, actor)
    return campaign


def cancel_campaign(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """Cancel a campaign: every message not yet being handed over is skipped.

    A batch in progress stops before its next group (its mark finds the messages skipped); the
    messages it is handing over at that moment still go.
    """
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        require_transition(campaign, Status.CANCELLED)
        not_handed_over = Q(status=Message.Status.QUEUED) | Q(
            status=Message.Status.SENDING, sent_at__isnull=True
        )
        skipped = Message.objects.filter(not_handed_over, campaign=campaign).update(
            status=Message.Status.SKIPPED, error=CANCELLED_REASON
        )
        campaign.finished_at = timezone.now() if campaign.started_at else None
        _change_status(campaign, Status.CANCELLED, actor, skipped=skipped)
    return campaign


# Starting ---------------------------------------------------------------------------------------


def start_sending(*, campaign: Campaign, actor: Actor = None, on_workers: bool = True) -> int:
    """Create the messages of the audience and the tracked links, mark the campaign sending.

    Return how many messages were created. The batches are queued for the sending workers when
    the transaction commits, unless `on_workers` is False (the caller sends them itself).
    """
    with transaction.atomic():
        campaign = _locked(campaign.pk)
        require_transition(campaign, Status.SENDING)
        check_campaign_content(
            subject=campaign.subject, html_body=campaign.html_body, text_body=campaign.text_body
        )
        for url in links.trackable_links(campaign.html_body):
            TrackedLink.objects.get_or_create(campaign=campaign, url=url)
        created = create_messages(campaign)
        campaign.started_at = timezone.now()
        _change_status(campaign, Status.SENDING, actor, messages=created)
        campaign_id = campaign.pk
        if on_workers:
            transaction.on_commit(lambda: queue_batches(campaign_id))
    logger.info("Campaign %s started: %s messages", campaign_id, created)
    return created


def request_start(*, campaign: Campaign, actor: Actor = None) -> None:
    """Check that the campaign may start now, and have a sending worker start it.

    Creating the messages of a large audience takes longer than a web request may (about 40 s
    for 600,000 people), so the admin asks for it and the worker does it. The checks are
    repeated by `start_sending`, which changes nothing when they no longer hold.
    """
    from campaigns.tasks import start_campaign

    require_transition(campaign, Status.SENDING)
    check_campaign_content(
        subject=campaign.subject, html_body=campaign.html_body, text_body=campaign.text_body
    )
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    campaign_id = campaign.pk
    transaction.on_commit(lambda: start_campaign.delay(campaign_id, actor_id))


def create_messages(campaign: Campaign) -> int:
    """Insert one queued message per audience member with a fresh token, in one statement.

    The token is made by the database: on PostgreSQL base64url of 32 bytes from two random UUIDs
    (244 random bits, from its cryptographic generator); on SQLite by `secrets.token_urlsafe(32)`
    registered as an SQL function. A person already holding a message of the campaign is left out.
    """
    recipients = campaign_audience(campaign).annotate(recipient_id=F("pk")).values("recipient_id")
    audience_sql, params = recipients.query.sql_with_params()
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        token = _token_sql(cursor)
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 -- names from the model, values as parameters.
            "(campaign_id, contact_id, token, status, attempts, error, created_at) "
            f"SELECT %s, audience.recipient_id, {token}, %s, 0, '', %s "
            f"FROM ({audience_sql}) AS audience "
            # WHERE true: SQLite needs it to read ON CONFLICT as part of the INSERT.
            "WHERE true ON CONFLICT (campaign_id, contact_id) DO NOTHING",
            [campaign.pk, Message.Status.QUEUED, timezone.now(), *params],
        )
        return cursor.rowcount


def _token_sql(cursor) -> str:
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


def queue_batches(campaign_id: int, count: int | None = None) -> None:
    """Queue `count` (default SENDING_PARALLEL_BATCHES) batch tasks for the campaign."""
    from campaigns.tasks import send_batch

    for _ in range(count or settings.SENDING_PARALLEL_BATCHES):
        send_batch.delay(campaign_id)


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


# Batches ----------------------------------------------------------------------------------------


def claim_batch(campaign_id: int, size: int) -> list[int]:
    """Claim up to `size` queued messages of the campaign for this worker; commit; return ids.

    PostgreSQL skips rows another worker is claiming at the same moment (SKIP LOCKED); SQLite
    takes its write lock when the transaction begins, so claims there simply queue.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=Message.Status.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, claimed_at=now, sent_at=None
        )
    return ids


def send_batch(
    *,
    campaign_id: int,
    size: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchOutcome:
    """Claim one batch, re-check its recipients, send each message once; return the outcome.

    Raise SendingInterrupted when the mail server cannot be reached: the untried messages are
    back in the queue then.
    """
    campaign = Campaign.objects.select_related("purpose", "client").get(pk=campaign_id)
    if campaign.status != Status.SENDING:
        return BatchOutcome()
    ids = claim_batch(campaign_id, size or settings.SENDING_BATCH_SIZE)
    if not ids:
        return BatchOutcome()
    messages = list(Message.objects.filter(pk__in=ids).order_by("pk"))
    recipients = _still_eligible(campaign, [m.contact_id for m in messages if m.contact_id])
    skipped = [m.pk for m in messages if m.contact_id not in recipients]
    if skipped:
        Message.objects.filter(pk__in=skipped).update(
            status=Message.Status.SKIPPED, error=SKIPPED_REASON
        )
    to_send = [m for m in messages if m.contact_id in recipients]
    if not to_send:
        return BatchOutcome(skipped=len(skipped))
    link_ids = dict(TrackedLink.objects.filter(campaign=campaign).values_list("url", "pk"))
    sender = _Sender(campaign, link_ids, sleep)
    outcome = sender.send_all(to_send, recipients)
    return BatchOutcome(
        sent=outcome.sent,
        skipped=len(skipped),
        failed=outcome.failed,
        retrying=outcome.retrying,
        unknown=outcome.unknown,
        released=outcome.released,
    )


def _still_eligible(campaign: Campaign, contact_ids: list[int]) -> dict[int, Contact]:
    """Return the contacts among these that the campaign may still be sent to, by id."""
    contacts = eligible(
        Contact.objects.filter(pk__in=contact_ids).order_by(),
        purpose=campaign.purpose,
        client=campaign.client,
    ).only("pk", "first_name", "email", "tracking_allowed")
    return {contact.pk: contact for contact in contacts}


class _Sender:
    """Hands one batch to the mail server over one connection, recording each step."""

    def __init__(self, campaign: Campaign, link_ids: dict[str, int], sleep) -> None:
        self.campaign = campaign
        self.link_ids = link_ids
        self.sleep = sleep
        self.rate = settings.SENDING_RATE_PER_WORKER
        self.personal_links = links.PersonalLinks(campaign.client)
        self.pending_sent: list[int] = []
        self.sent = self.failed = self.unknown = self.released = 0
        self.retrying: list[int] = []

    def send_all(self, messages: list[Message], recipients: dict[int, Contact]) -> BatchOutcome:
        backend = get_connection(fail_silently=False)
        try:
            backend.open()
        except (smtplib.SMTPException, OSError) as exc:
            self._release([m.pk for m in messages])
            raise SendingInterrupted(_describe(exc)) from exc
        started = time.monotonic()
        marked_until = 0
        try:
            for index, message in enumerate(messages):
                if self.rate > 0:
                    wait = started + index / self.rate - time.monotonic()
                    if wait > 0:
                        self._flush_sent()
                        self.sleep(wait)
                email = build_email(
                    self.campaign,
                    message,
                    recipients[message.contact_id],
                    self.link_ids,
                    self.personal_links,
                )
                if index >= marked_until:
                    marked_until = index + max(1, settings.SENDING_HANDOVER_GROUP)
                    if not self._mark_handing_over([m.pk for m in messages[index:marked_until]]):
                        break
                try:
                    backend.send_messages([email])
                except smtplib.SMTPRecipientsRefused as exc:
                    codes = [code for code, _ in exc.recipients.values()]
                    self._refused(message, codes[0] if codes else 550)
                except smtplib.SMTPResponseException as exc:
                    if isinstance(exc, smtplib.SMTPServerDisconnected):
                        raise
                    self._refused(message, exc.smtp_code)
                except (smtplib.SMTPException, OSError) as exc:
                    # Cut off during the hand-over: the server may have taken it. Never resend.
                    self._unknown(message.pk)
                    self._release([m.pk for m in messages[index + 1 :]])
                    raise SendingInterrupted(_describe(exc)) from exc
                else:
                    self.pending_sent.append(message.pk)
                    self.sent += 1
            self._flush_sent()
        finally:
            try:
                backend.close()
            except (smtplib.SMTPException, OSError):
                logger.info("Closing the SMTP connection failed after campaign batch")
            self._flush_sent()
        return BatchOutcome(
            sent=self.sent,
            failed=self.failed,
            retrying=tuple(self.retrying),
            unknown=self.unknown,
            released=self.released,
        )

    def _mark_handing_over(self, message_ids: list[int]) -> bool:
        """Commit `sent_at` (and earlier successes) before these messages leave: never twice.

        Return False when they are no longer this worker's to send: a cancel skips every
        message not yet marked in one transaction, so the mark then finds none of them.
        """
        with transaction.atomic():
            self._flush_sent()
            marked = Message.objects.filter(
                pk__in=message_ids, status=Message.Status.SENDING
            ).update(sent_at=timezone.now())
        return marked == len(message_ids)

    def _flush_sent(self) -> None:
        if not self.pending_sent:
            return
        Message.objects.filter(pk__in=self.pending_sent).update(
            status=Message.Status.SENT, attempts=F("attempts") + 1
        )
        self.pending_sent = []

    def _refused(self, message: Message, code: int) -> None:
        """Record a refusal: 4xx is retried later with backoff, 5xx (and the last try) fails."""
        attempts = message.attempts + 1
        temporary = 400 <= code < 500
        if temporary and attempts < settings.SENDING_MAX_ATTEMPTS:
            Message.objects.filter(pk=message.pk).update(
                sent_at=None,
                claimed_at=timezone.now(),
                attempts=attempts,
                error=f"SMTP {code}: retrying",
            )
            self.retrying.append(message.pk)
        else:
            kind = "temporary, out of attempts" if temporary else "permanent"
            Message.objects.filter(pk=message.pk).update(
                status=Message.Status.FAILED, attempts=attempts, error=f"SMTP {code} ({kind})"
            )
            self.failed += 1

    def _unknown(self, message_id: int) -> None:
        Message.objects.filter(pk=message_id).update(
            status=Message.Status.FAILED, attempts=F("attempts") + 1, error=UNKNOWN_OUTCOME
        )
        self.unknown += 1

    def _release(self, message_ids: list[int]) -> None:
        """Queue again messages this worker claimed (or marked) but has not tried to hand over."""
        self.released += Message.objects.filter(
            pk__in=message_ids, status=Message.Status.SENDING
        ).update(status=Message.Status.QUEUED, claimed_at=None, sent_at=None)


def _describe(exc: BaseException) -> str:
    """Name the failure without the server's text, which may quote an address."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def requeue_for_retry(message_ids: Iterable[int]) -> int:
    """Put messages waiting after a temporary refusal back in the queue; return how many."""
    return Message.objects.filter(
        pk__in=list(message_ids), status=Message.Status.SENDING, sent_at__isnull=True
    ).update(status=Message.Status.QUEUED, claimed_at=None)


def retry_delay(attempts: int) -> int:
    """Return the seconds to wait before the next try: the backoff doubled per earlier attempt."""
    return settings.SENDING_RETRY_BACKOFF * 2 ** max(0, attempts - 1)


# The e-mail itself ------------------------------------------------------------------------------


def template_values(
    personal_links: links.PersonalLinks, contact: Contact, token: str
) -> dict[str, str]:
    """Return the values the template language may use for one recipient."""
    return {
        "first_name": _one_line(contact.first_name),
        "preferences_url": personal_links.preferences_url(contact),
        "unsubscribe_url": personal_links.unsubscribe_url(contact, token),
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def from_address(campaign: Campaign) -> str:
    """Return the From header: the campaign's address with its client's name, or the default."""
    if not campaign.from_email:
        return settings.DEFAULT_FROM_EMAIL
    if campaign.client is not None:
        return formataddr((campaign.client.name, campaign.from_email))
    return campaign.from_email


def build_email(
    campaign: Campaign,
    message: Message,
    contact: Contact,
    link_ids: dict[str, int],
    personal_links: links.PersonalLinks | None = None,
) -> EmailMultiAlternatives:
    """Render one recipient's e-mail with its unsubscribe headers, tracking and Message-ID."""
    token = message.token
    values = template_values(personal_links or links.PersonalLinks(campaign.client), contact, token)
    html = render(campaign.html_body, values, html=True)
    if contact.tracking_allowed:
        html = links.append_open_pixel(
            links.rewrite_links(html, token=token, link_ids=link_ids), token
        )
    unsubscribe = values["unsubscribe_url"]
    email = EmailMultiAlternatives(
        subject=_one_line(render(campaign.subject, values, html=False)),
        body=render(campaign.text_body, values, html=False),
        from_email=from_address(campaign),
        to=[contact.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>, <{links.unsubscribe_mailto(token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-CRM-Message": token,
            "Message-ID": f"<{token}@{settings.SITE_DOMAIN}>",
        },
    )
    email.attach_alternative(html, "text/html")
    return email


# Watching over sending --------------------------------------------------------------------------


@dataclass(frozen=True)
class StallReport:
    """What one pass over the sending campaigns did."""

    requeued: int
    unknown: int
    resumed: tuple[int, ...]
    finished: tuple[int, ...]


def resume_stalled_sending(
    *, lease_seconds: int | None = None, now: datetime | None = None
) -> StallReport:
    """Recover what dead workers left: requeue untried claims, settle unsure ones, finish, resume.

    A claim older than the lease belongs to a worker that died (a live batch ends within its time
    limit, which is shorter). Its messages never handed over are queued again; one caught in the
    hand-over is marked failed with an unknown outcome (never resent). A sending campaign with
    queued messages and no claim within the lease gets its batches queued again; one with nothing
    left to send is marked sent.
    """
    now = now or timezone.now()
    lease = settings.SENDING_CLAIM_LEASE if lease_seconds is None else lease_seconds
    stale = Q(status=Message.Status.SENDING, claimed_at__lte=now - timedelta(seconds=lease))
    sending = Message.objects.filter(campaign__status=Status.SENDING)
    requeued = sending.filter(stale, sent_at__isnull=True).update(
        status=Message.Status.QUEUED, claimed_at=None
    )
    unknown = sending.filter(stale, sent_at__isnull=False).update(
        status=Message.Status.FAILED, error=UNKNOWN_OUTCOME
    )
    resumed, finished = [], []
    for campaign_id in Campaign.objects.filter(status=Status.SENDING).values_list("pk", flat=True):
        if finish_if_done(campaign_id):
            finished.append(campaign_id)
            continue
        last_claim = Message.objects.filter(campaign_id=campaign_id).aggregate(
            last=Max("claimed_at")
        )["last"]
        queued = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED)
        if queued.exists() and (last_claim is None or last_claim <= now - timedelta(seconds=lease)):
            queue_batches(campaign_id)
            resumed.append(campaign_id)
    if requeued or unknown or resumed:
        logger.warning(
            "Stalled sending: %s messages requeued, %s with unknown outcome, campaigns resumed %s",
            requeued,
            unknown,
            resumed,
        )
    return StallReport(requeued, unknown, tuple(resumed), tuple(finished))


def finish_if_done(campaign_id: int) -> bool:
    """Mark a sending campaign sent when none of its messages is queued or being sent."""
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status != Status.SENDING:
            return False
        busy = Message.objects.filter(
            campaign_id=campaign_id, status__in=[Message.Status.QUEUED, Message.Status.SENDING]
        )
        if busy.exists():
            return False
        campaign.finished_at = timezone.now()
        _change_status(campaign, Status.SENT, None)
    logger.info("Campaign %s sent", campaign_id)
    return True


def has_queued(campaign_id: int) -> bool:
    """Say whether the campaign still has messages waiting for a batch."""
    return Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED).exists()


# Test sends -------------------------------------------------------------------------------------


def send_test(*, campaign: Campaign, to: str, actor: Actor) -> None:
    """Send the campaign as it will look to a staff member's own address, marked as a test.

    Only the address of an active staff account is accepted: a test send is no way around the
    audience rules. Links go to their targets directly and nothing is tracked.
    """
    user_model = get_user_model()
    if not user_model.objects.filter(
        email__iexact=to.strip(), is_staff=True, is_active=True
    ).exists():
        raise ValidationError({"to": "Test sends go only to the address of a staff account."})
    check_campaign_content(
        subject=campaign.subject, html_body=campaign.html_body, text_body=campaign.text_body
    )
    name = getattr(actor, "first_name", "") or "Test"
    values = {
        "first_name": _one_line(name),
        "preferences_url": f"{settings.SITE_URL}/",
        "unsubscribe_url": f"{settings.SITE_URL}/",
    }
    email = EmailMultiAlternatives(
        subject=f"[Test] {_one_line(render(campaign.subject, values, html=False))}",
        body=render(campaign.text_body, values, html=False),
        from_email=from_address(campaign),
        to=[to.strip()],
    )
    email.attach_alternative(render(campaign.html_body, values, html=True), "text/html")
    email.send()
    record_audit(
        actor=actor,
        action=AuditEvent.Action.VIEWED,
        obj=campaign,
        channel=CHANNEL,
        details={"test_send": True},
    )
