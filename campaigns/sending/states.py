"""The states of a campaign and the changes between them, each audited in its transaction."""

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.content import check_layout, contents
from campaigns.models import Campaign, Message
from campaigns.segment_rules import check_rules
from campaigns.templating import check_template
from core.actors import Actor
from core.audit import record_audit
from core.events import EventKind, emit_event
from core.models import AuditEvent

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
CANCELLED_REASON = "The campaign was cancelled before its turn."


def check_campaign_content(
    *, subject: str, html_body: str, text_body: str, subject_b: str = ""
) -> None:
    """Raise ValidationError, per field and with line numbers, for any refused template syntax."""
    errors = {}
    for name, source in (
        ("subject", subject),
        ("subject_b", subject_b),
        ("html_body", html_body),
        ("text_body", text_body),
    ):
        try:
            check_template(source)
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)


def check_every_version(campaign: Campaign) -> None:
    """Raise ValidationError naming the language and line of any refused syntax, or the layout's."""
    for language, content in contents(campaign).items():
        try:
            check_campaign_content(
                subject=content.subject,
                subject_b=content.subject_b,
                html_body=content.html_body,
                text_body=content.text_body,
            )
        except ValidationError as exc:
            label = dict(settings.LANGUAGES).get(language, language)
            raise ValidationError([f"{label}: {message}" for message in exc.messages]) from exc
        if campaign.subject_b and not content.subject_b:
            label = dict(settings.LANGUAGES).get(language, language)
            raise ValidationError(f"{label}: the A/B test needs a second subject in this language.")
    if campaign.layout is not None:
        check_layout(html=campaign.layout.html, text_footer=campaign.layout.text_footer)


def check_segment_rules(campaign: Campaign) -> None:
    """Raise ValidationError when the segment's rules name a tag, source or campaign now gone."""
    try:
        check_rules(campaign.segment.rules)
    except ValidationError as exc:
        raise ValidationError(
            [f"The segment's rules no longer hold: {message}" for message in exc.messages]
        ) from exc


def require_transition(campaign: Campaign, target: str) -> None:
    """Raise ValidationError unless the campaign may go from its status to `target`."""
    if target not in LEGAL_TRANSITIONS[campaign.status]:
        raise ValidationError(
            f"A {campaign.get_status_display().lower()} campaign cannot become "
            f"{Status(target).label.lower()}."
        )


def locked_campaign(campaign_id: int) -> Campaign:
    """Return the campaign, its row locked until the current transaction ends."""
    # Lock the campaign row only: the client is an outer join, which FOR UPDATE cannot lock.
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("purpose", "client")
        .get(pk=campaign_id)
    )


def change_status(campaign: Campaign, target: str, actor: Actor, **details) -> None:
    """Save the campaign in its new status and audit the change (call it in a transaction)."""
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
        campaign = locked_campaign(campaign.pk)
        require_transition(campaign, Status.SCHEDULED)
        check_campaign_content(
            subject=campaign.subject, html_body=campaign.html_body, text_body=campaign.text_body
        )
        campaign.scheduled_at = at
        change_status(campaign, Status.SCHEDULED, actor, scheduled_at=at.isoformat())
    return campaign


def unschedule_campaign(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """Take a scheduled campaign back to draft, so it can be edited."""
    with transaction.atomic():
        campaign = locked_campaign(campaign.pk)
        require_transition(campaign, Status.DRAFT)
        campaign.scheduled_at = None
        change_status(campaign, Status.DRAFT, actor)
    return campaign


def cancel_campaign(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """Cancel a campaign: every message not yet being handed over is skipped.

    A batch in progress stops before its next group (its mark finds the messages skipped); the
    messages it is handing over at that moment still go.
    """
    with transaction.atomic():
        campaign = locked_campaign(campaign.pk)
        require_transition(campaign, Status.CANCELLED)
        not_handed_over = Q(status__in=[Message.Status.QUEUED, Message.Status.HELD]) | Q(
            status=Message.Status.SENDING, sent_at__isnull=True
        )
        skipped = Message.objects.filter(not_handed_over, campaign=campaign).update(
            status=Message.Status.SKIPPED, error=CANCELLED_REASON
        )
        campaign.finished_at = timezone.now() if campaign.started_at else None
        change_status(campaign, Status.CANCELLED, actor, skipped=skipped)
    return campaign


def finish_if_done(campaign_id: int) -> bool:
    """Mark a sending campaign sent when none of its messages is queued, held or being sent."""
    with transaction.atomic():
        campaign = locked_campaign(campaign_id)
        if campaign.status != Status.SENDING:
            return False
        busy = Message.objects.filter(
            campaign_id=campaign_id,
            status__in=[Message.Status.QUEUED, Message.Status.HELD, Message.Status.SENDING],
        )
        if busy.exists():
            return False
        campaign.finished_at = timezone.now()
        change_status(campaign, Status.SENT, None)
        emit_event(EventKind.CAMPAIGN_SENT, campaign=campaign_id)
    logger.info("Campaign %s sent", campaign_id)
    return True
