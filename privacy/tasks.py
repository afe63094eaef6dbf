"""Celery tasks of the privacy app: thin callers of the functions that do the work."""

import logging

from celery import shared_task

from privacy.checks import privacy_report
from privacy.notices import send_material_change_batch

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)  # read-only, so running it twice is harmless
def run_privacy_check() -> dict:
    """Run the privacy check, log its counts, and return the report."""
    report = privacy_report().as_dict()
    logger.info(
        "privacy check: ok=%s undeclared=%d without_provenance=%d not_informed=%d",
        report["ok"],
        len(report["undeclared_models"]),
        report["contacts_without_provenance"],
        report["indirect_contacts_not_informed"],
    )
    return report


@shared_task(
    acks_late=True
)  # deliveries are recorded before sending: re-running mails no one twice
def mail_material_change(notice_id: int) -> int:
    """Mail one batch about a material change, then queue the next until everyone is told."""
    sent = send_material_change_batch(notice_id=notice_id)
    if sent:
        mail_material_change.delay(notice_id)
    return sent
