"""Handing one claimed batch to the mail server over a few connections, never a message twice."""

import logging
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
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

# The outcome of a message whose connection was cut off before its turn: it goes back to the queue.
NOT_TRIED = object()
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
    """Hands one batch to the mail server over several connections, recording each step."""

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
        """Hand the messages over a group at a time, the group spread over several connections."""
        backends = [get_connection(fail_silently=False) for _ in range(_connections())]
        try:
            for backend in backends:
                backend.open()
        except (smtplib.SMTPException, OSError) as exc:
            _close(backends)
            self._release([m.pk for m in messages])
            raise SendingInterrupted(_describe(exc)) from exc
        started = time.monotonic()
        group = max(1, settings.SENDING_HANDOVER_GROUP)
        try:
            # One connection sends in this thread: no thread, and no database connection of its own
            # for a backend that records what it delivers (the files of the embedded default).
            threads = ThreadPoolExecutor(len(backends)) if len(backends) > 1 else nullcontext()
            with threads as pool:
                for start in range(0, len(messages), group):
                    if self.rate > 0:
                        wait = started + start / self.rate - time.monotonic()
                        if wait > 0:
                            self._flush_sent()
                            self.sleep(wait)
                    batch = messages[start : start + group]
                    emails = [
                        build_email(
                            self.campaign,
                            message,
                            recipients[message.contact_id],
                            self.link_ids,
                            self.personal_links,
                            self.versions,
                        )
                        for message in batch
                    ]
                    if not self._mark_handing_over([m.pk for m in batch]):
                        break
                    results = _hand_over(pool, backends, emails)
                    interrupted = self._record(batch, results)
                    if interrupted is not None:
                        self._release([m.pk for m in messages[start + group :]])
                        raise SendingInterrupted(_describe(interrupted)) from interrupted
            self._flush_sent()
        finally:
            _close(backends)
            self._flush_sent()
        return BatchOutcome(
            sent=self.sent,
            failed=self.failed,
            retrying=tuple(self.retrying),
            unknown=self.unknown,
            released=self.released,
        )

    def _record(self, batch: list[Message], results: list) -> BaseException | None:
        """Record each message's outcome; return the failure that cut the hand-over off, if any."""
        interrupted = None
        untried = []
        for message, result in zip(batch, results, strict=True):
            if result is NOT_TRIED:
                untried.append(message.pk)
            elif result is None:
                self.pending_sent.append(message.pk)
                self.sent += 1
            elif isinstance(result, smtplib.SMTPRecipientsRefused):
                codes = [code for code, _ in result.recipients.values()]
                self._refused(message, codes[0] if codes else 550)
            elif isinstance(result, smtplib.SMTPResponseException):
                self._refused(message, result.smtp_code)
            elif isinstance(result, AnymailRecipientsRefused):
                self._refused(message, 550)
            elif isinstance(result, AnymailAPIError) and _took_nothing(result):
                # A provider's HTTP API: 429 and other 4xx answers took nothing (429 is retried).
                self._refused(message, 421 if result.status_code == 429 else 554)
            else:
                # Cut off during the hand-over: the server may have taken it. Never resend.
                self._unknown(message.pk)
                interrupted = interrupted or result
        self._release(untried)
        return interrupted

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


def _connections() -> int:
    """Return how many SMTP connections a batch is handed over on at once."""
    return max(1, settings.SENDING_CONNECTIONS)


def _took_nothing(exc: AnymailAPIError) -> bool:
    """Say whether a provider's API answer means it took nothing (a 4xx, 429 included)."""
    return 400 <= (getattr(exc, "status_code", None) or 0) < 500


def _hand_over(pool: ThreadPoolExecutor | None, backends: list, emails: list) -> list:
    """Send the e-mails spread over the connections at once; return each one's outcome in order.

    The outcome is None when the server took it, the exception it raised otherwise, or NOT_TRIED
    when its connection was cut off before (it goes back to the queue).
    """
    shares = [list(range(index, len(emails), len(backends))) for index in range(len(backends))]
    results: list = [NOT_TRIED] * len(emails)

    def send_share(backend, positions: list[int]) -> None:
        for position in positions:
            try:
                backend.send_messages([emails[position]])
            except (smtplib.SMTPException, OSError, AnymailAPIError) as exc:
                results[position] = exc
                if not _is_refusal(exc):
                    return
            else:
                results[position] = None

    if pool is None:
        send_share(backends[0], shares[0])
        return results
    for future in [
        pool.submit(send_share, backend, positions)
        for backend, positions in zip(backends, shares, strict=True)
        if positions
    ]:
        future.result()
    return results


def _is_refusal(exc: BaseException) -> bool:
    """Say whether the server refused this one message, the connection still usable."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return False
    if isinstance(exc, AnymailAPIError) and not isinstance(exc, AnymailRecipientsRefused):
        return _took_nothing(exc)
    return isinstance(
        exc,
        smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException | AnymailRecipientsRefused,
    )


def _close(backends: list) -> None:
    """Close the connections, a failure to close being of no consequence to what was sent."""
    for backend in backends:
        try:
            backend.close()
        except (smtplib.SMTPException, OSError):
            logger.info("Closing the SMTP connection failed after campaign batch")


def _describe(exc: BaseException) -> str:
    """Name the failure without the server's text, which may quote an address."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"
