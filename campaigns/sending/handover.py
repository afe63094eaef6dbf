"""Handing one claimed batch to the mail server over one connection, never a message twice."""

import logging
import smtplib
import time
from dataclasses import dataclass

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns import links
from campaigns.content import contents
from campaigns.models import Campaign, Message
from campaigns.sending.mail import build_email
from crm.models import Contact

logger = logging.getLogger(__name__)

UNKNOWN_OUTCOME = "Outcome unknown: the hand-over to the mail server was cut off; never resent."


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


class BatchSender:
    """Hands one batch to the mail server over one connection, recording each step."""

    def __init__(self, campaign: Campaign, link_ids: dict[str, int], sleep) -> None:
        self.campaign = campaign
        self.link_ids = link_ids
        self.sleep = sleep
        self.rate = settings.SENDING_RATE_PER_WORKER
        self.personal_links = links.PersonalLinks(campaign.client)
        self.versions = contents(campaign)
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
                    self.versions,
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
                except AnymailRecipientsRefused:
                    self._refused(message, 550)
                except AnymailAPIError as exc:
                    # A provider's HTTP API: 429 and other 4xx answers took nothing (429 is
                    # retried); a 5xx or a lost connection may have, so it is never resent.
                    status = getattr(exc, "status_code", None) or 0
                    if not 400 <= status < 500:
                        self._unknown(message.pk)
                        self._release([m.pk for m in messages[index + 1 :]])
                        raise SendingInterrupted(_describe(exc)) from exc
                    self._refused(message, 421 if status == 429 else 554)
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
