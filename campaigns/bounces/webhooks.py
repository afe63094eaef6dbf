"""E-mail providers' tracking webhooks, read by django-anymail, recorded through `apply_feedback`.

The provider is configuration (`EMAIL_WEBHOOK_PROVIDER`): anymail's view for it checks the
request (the provider's signature where it signs, HTTP basic auth with `ANYMAIL_WEBHOOK_SECRET`
where it does not) and turns the provider's payload into normalised events; this module maps each
event (announced on anymail's `tracking` signal, connected in `CampaignsConfig.ready`) to one
piece of feedback. A request that is not provably the provider's answers 403, one
whose payload cannot be read answers 400, and neither records anything; a provider's retry of
an event already recorded records nothing more.
"""

from datetime import datetime, timedelta

from anymail.exceptions import (
    AnymailError,
    AnymailImproperlyInstalled,
    AnymailWebhookValidationFailure,
)
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string

from campaigns.bounces.classification import classify
from campaigns.bounces.recording import DEAD, POLICY, SOFT, Feedback, apply_feedback
from campaigns.models import MessageEvent
from campaigns.sending.mail import TOKEN_METADATA
from core.models import AuditEvent

Kind = MessageEvent.Kind
VIEWS = "anymail.webhooks"
TRACKING_VIEWS = {
    "amazon_ses": f"{VIEWS}.amazon_ses.AmazonSESTrackingWebhookView",
    "brevo": f"{VIEWS}.brevo.BrevoTrackingWebhookView",
    "mailersend": f"{VIEWS}.mailersend.MailerSendTrackingWebhookView",
    "mailgun": f"{VIEWS}.mailgun.MailgunTrackingWebhookView",
    "mailjet": f"{VIEWS}.mailjet.MailjetTrackingWebhookView",
    "mailtrap": f"{VIEWS}.mailtrap.MailtrapTrackingWebhookView",
    "mandrill": f"{VIEWS}.mandrill.MandrillCombinedWebhookView",
    "postal": f"{VIEWS}.postal.PostalTrackingWebhookView",
    "postmark": f"{VIEWS}.postmark.PostmarkTrackingWebhookView",
    "resend": f"{VIEWS}.resend.ResendTrackingWebhookView",
    "sendgrid": f"{VIEWS}.sendgrid.SendGridTrackingWebhookView",
    "sparkpost": f"{VIEWS}.sparkpost.SparkPostTrackingWebhookView",
    "unisender_go": f"{VIEWS}.unisender_go.UnisenderGoTrackingWebhookView",
}
# Providers whose requests carry a signature anymail checks with the provider's key; the others
# are only as safe as the basic-auth secret, without which every request is refused.
SIGNED = {"mailersend", "mailgun", "mandrill", "postal", "resend", "unisender_go"}
# Payload shapes a provider's parser does not expect raise these; the request is refused.
MALFORMED = (
    AnymailError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OverflowError,
)
REASON_FIELDS = ("error", "reason", "comment", "diag")
REFUSED_AS_POLICY = {RejectReason.SPAM, RejectReason.BLOCKED, RejectReason.TIMED_OUT}


class WebhookRefused(Exception):
    """A webhook request that is not provably the provider's, or that cannot be read."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


def receive_webhook(request: HttpRequest) -> HttpResponse:
    """Check a provider's request and have anymail announce its events; return anymail's answer.

    Raise WebhookRefused for a request that is not provably the provider's or cannot be read.
    """
    provider = settings.EMAIL_WEBHOOK_PROVIDER
    if provider not in TRACKING_VIEWS:
        raise WebhookRefused("No e-mail provider is configured.", status=403)
    if provider not in SIGNED and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        raise WebhookRefused("The webhook secret is not configured.", status=403)
    view = import_string(TRACKING_VIEWS[provider]).as_view()
    try:
        # One transaction for the request's events: a refusal part-way records none of them.
        with transaction.atomic():
            response = view(request)
    except AnymailImproperlyInstalled as exc:
        # Amazon SES needs boto3, Postal cryptography, Resend svix: django-anymail's extras.
        raise WebhookRefused("The provider's package is not installed.", status=403) from exc
    except ImproperlyConfigured as exc:
        raise WebhookRefused("The provider's webhook key is not configured.", status=403) from exc
    except AnymailWebhookValidationFailure as exc:
        raise WebhookRefused(
            "The request's signature or credentials do not match.", status=403
        ) from exc
    except MALFORMED as exc:
        raise WebhookRefused("The request is not an event of this provider.", status=400) from exc
    # anymail's own answers pass through: 200, or Amazon SNS's 401 challenge for basic auth.
    return response


def record_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """Record one event anymail read from a provider's checked request (its tracking signal)."""
    feedback = feedback_from_event(event)
    if feedback is not None:
        apply_feedback(feedback=feedback, channel=AuditEvent.Channel.WEBHOOK)


def feedback_from_event(event: AnymailTrackingEvent) -> Feedback | None:
    """Return the feedback an anymail tracking event reports, or None for events we ignore."""
    kind, detail = _kind_and_detail(event)
    if not kind:
        return None
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    return Feedback(
        kind=kind,
        detail=detail,
        token=str(metadata.get(TOKEN_METADATA) or ""),
        message_id=str(event.message_id or ""),
        recipient=str(event.recipient or ""),
        at=_moment(event.timestamp),
    )


def _kind_and_detail(event: AnymailTrackingEvent) -> tuple[str, str]:
    text = _reason_text(event)
    match event.event_type:
        case EventType.DELIVERED:
            return Kind.DELIVERED, ""
        case EventType.DEFERRED:
            return Kind.BOUNCED, SOFT
        case EventType.BOUNCED:
            if event.reject_reason in REFUSED_AS_POLICY:
                return Kind.BOUNCED, POLICY
            # Dead only on evidence: the provider's own "invalid recipient", or the receiver's
            # words; a bounce that gives no reason counts as soft, as in bounce mail.
            invalid = event.reject_reason == RejectReason.INVALID
            return Kind.BOUNCED, classify(diagnostic=text, default=DEAD if invalid else SOFT)
        case EventType.REJECTED:
            if event.reject_reason == RejectReason.UNSUBSCRIBED:
                return Kind.UNSUBSCRIBED, ""
            if event.reject_reason in REFUSED_AS_POLICY:
                return Kind.BOUNCED, POLICY
            if event.reject_reason in (RejectReason.INVALID, RejectReason.BOUNCED):
                return Kind.BOUNCED, DEAD
            return Kind.BOUNCED, POLICY
        case EventType.FAILED:
            return Kind.BOUNCED, POLICY
        case EventType.COMPLAINED:
            return Kind.COMPLAINED, ""
        case EventType.UNSUBSCRIBED:
            return Kind.UNSUBSCRIBED, ""
    return "", ""


def _reason_text(event: AnymailTrackingEvent) -> str:
    """Return the receiver's words: anymail's fields, and the reason fields some providers keep
    only in their own payload (Mailjet's `error`, SendGrid's `reason`)."""
    parts = [event.mta_response, event.description]
    if isinstance(event.esp_event, dict):
        parts += [event.esp_event.get(key) for key in REASON_FIELDS]
    return " ".join(str(part) for part in parts if isinstance(part, str | int) and part)


def _moment(value) -> datetime | None:
    now = timezone.now()
    if not isinstance(value, datetime) or value.tzinfo is None or value > now + timedelta(days=1):
        return None
    return value
