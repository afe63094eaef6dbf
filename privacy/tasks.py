"""Celery tasks of the privacy app: thin callers of the functions that do the work."""

import logging
import smtplib

from celery import shared_task

from privacy.accountability.breaches import send_breach_notices_and_queue_next
from privacy.accountability.checks import privacy_report
from privacy.accountability.indirect_notices import send_indirect_notices_and_queue_next
from privacy.bulk import run_bulk_action as run_bulk_action_now
from privacy.consent.notices import send_material_change_and_queue_next
from privacy.consent.subscriptions import send_confirmation_mail
from privacy.deletion.retention import RetentionBusy, RetentionSuperseded, run_all
from privacy.requests.digest import request_handler_addresses, send_digest
from privacy.requests.subject_requests import act_on_request as act_on_request_now
from privacy.requests.subject_requests import expire_unverified_requests, send_verification_mail

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)  # read-only, so running it twice is harmless
def run_privacy_check() -> dict:
    """Run the privacy check, log its counts, and return the report."""
    report = privacy_report().as_dict()
    # The names of the failing and warning checks only: counts and model names, never people.
    logger.info(
        "privacy check: ok=%s failures=%s warnings=%s",
        report["ok"],
        ",".join(report["failures"]) or "none",
        ",".join(report["warnings"]) or "none",
    )
    return report


# Deliveries are recorded before sending: re-running it mails no one twice.
@shared_task(acks_late=True)
def mail_material_change(notice_id: int) -> int:
    """Mail one batch about a material change, then queue the next until everyone is told."""
    return send_material_change_and_queue_next(notice_id=notice_id)


# A repeat mails the same link once more, which confirms nothing by itself. A mail server that is
# briefly away is tried again a few times; the token expires long after.
@shared_task(
    acks_late=True,
    autoretry_for=(
        ConnectionError,
        TimeoutError,
        smtplib.SMTPServerDisconnected,
        smtplib.SMTPConnectError,
    ),
    retry_backoff=True,
    max_retries=3,
)
def send_subscription_confirmation(token: str) -> bool:
    """Mail the confirmation link of a subscription form (from the worker, not the web request)."""
    return send_confirmation_mail(token=token)


@shared_task(acks_late=True)  # mails a still-unverified request only: a repeat sends one more link
def send_request_verification(request_id: int) -> None:
    """Mail the verification link of a public request (from the worker, not the web request)."""
    send_verification_mail(request_id=request_id)


@shared_task(acks_late=True)  # act_on_request does nothing once the request is closed
def act_on_request(request_id: int) -> str:
    """Carry out a verified request's automatic part; return its status."""
    return act_on_request_now(request_id=request_id).status


@shared_task(acks_late=True)
def expire_unverified() -> int:
    """Close requests that were never verified."""
    return expire_unverified_requests()


@shared_task(acks_late=True)
def mail_request_digest() -> int:
    """Mail the privacy officers the open requests, overdue and nearly due first."""
    return send_digest(recipients=request_handler_addresses())


@shared_task(acks_late=True)  # selects by age alone: a re-delivered run reaches the same end
def purge_expired() -> dict[str, int]:
    """Run every active retention rule; return rows acted on per rule."""
    try:
        runs = run_all()
    except (RetentionBusy, RetentionSuperseded):
        logger.info("retention: another run is acting; this one stops")
        return {}
    return {run.rule.kind: run.acted for run in runs}


@shared_task(acks_late=True)  # people are claimed before their mail: re-running mails none twice
def mail_breach_notice(breach_id: int) -> int:
    """Mail one batch of a breach's affected people, then queue the next until all are handled."""
    return send_breach_notices_and_queue_next(breach_id=breach_id)


@shared_task(acks_late=True)  # informed_at is set before the mail: re-running mails no one twice
def mail_indirect_notices(after_contact_id: int = 0, totals: dict | None = None) -> dict:
    """Send one batch of art. 14 notices, then queue the next until every pending one is handled."""
    return send_indirect_notices_and_queue_next(after_contact_id=after_contact_id, totals=totals)


@shared_task(acks_late=True)  # resumes from the last committed batch: running it twice is harmless
def run_bulk_action(*, action_id: int) -> None:
    """Carry out a bulk action on many contacts, batch by batch."""
    run_bulk_action_now(action_id=action_id)
