"""The webhook payloads in the OpenAPI document, one entry per kind, under `x-webhooks`.

Read by drf-spectacular through `SPECTACULAR_SETTINGS["WEBHOOKS"]`; the body is the one
`integrations.payloads.build_payload` makes, described field by field. OpenAPI 3.0, which the
document follows, has no `webhooks` section (3.1 added it); `webhooks_as_extension` moves it to
`x-webhooks`, the extension Redoc renders, so the document stays valid 3.0.
"""

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from core.events import EventKind


class WebhookEventData(serializers.Serializer):
    """Ids, flags and field names; which keys appear depends on the event's type."""

    contact = serializers.IntegerField(required=False, help_text="The contact's id.")
    fields = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Names of the fields created, changed or rectified; never their values.",
    )
    recipient_reference = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Art. 19 events: your own id for the person, as you gave it to us.",
    )
    email_hash = serializers.CharField(
        required=False, help_text="contact.erased: the keyed hash of the erased address."
    )
    certificate = serializers.IntegerField(
        required=False, help_text="contact.erased: the erasure certificate's id."
    )
    request = serializers.IntegerField(
        required=False, allow_null=True, help_text="The data-subject request's id."
    )
    kind = serializers.CharField(required=False, help_text="request.*: the request's kind.")
    status = serializers.CharField(
        required=False, help_text="request.completed: completed or rejected."
    )
    consent_event = serializers.IntegerField(required=False)
    purpose = serializers.CharField(required=False, help_text="consent.changed: purpose code.")
    action = serializers.CharField(required=False, help_text="consent.changed: grant, refuse…")
    suppression = serializers.IntegerField(required=False)
    client = serializers.IntegerField(
        required=False, allow_null=True, help_text="suppression.added: empty when global."
    )
    reason = serializers.CharField(required=False, help_text="suppression.added: why.")
    campaign = serializers.IntegerField(required=False, help_text="campaign.sent: its id.")


class WebhookEvent(serializers.Serializer):
    """The body of every delivery, signed per the Standard Webhooks scheme (docs/webhooks.md)."""

    id = serializers.UUIDField(help_text="The event id, also in `webhook-id`: de-duplicate on it.")
    type = serializers.ChoiceField(choices=EventKind.choices)
    occurred_at = serializers.DateTimeField()
    data = WebhookEventData()


class Acknowledgement(serializers.Serializer):
    reference = serializers.CharField(
        required=False,
        help_text="Optional: your own id for the person; quoted back in art. 19 events.",
    )


WEBHOOKS = [
    OpenApiWebhook(
        name=kind.value,
        decorator=extend_schema(
            summary=kind.label,
            description="Answer 2xx within the timeout to acknowledge; anything else is "
            "retried with backoff for about a day, with the same `webhook-id`.",
            request=WebhookEvent,
            responses={200: OpenApiResponse(Acknowledgement, description="Received.")},
        ),
    )
    for kind in EventKind
]


def webhooks_as_extension(result, generator, request, public):
    """Move drf-spectacular's `webhooks` section to `x-webhooks` (a post-processing hook)."""
    if "webhooks" in result:
        result["x-webhooks"] = result.pop("webhooks")
    return result
