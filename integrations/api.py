"""Webhooks in the API: register and change endpoints, read the delivery log, send again.

The secret is in the answer to the creation (and to `rotate-secret`) only. The payloads the
endpoints receive are documented in the OpenAPI document's `x-webhooks` section
(`integrations.openapi`).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.events import EventKind
from integrations.delivery import send_again
from integrations.endpoints import create_endpoint, rotate_secret, update_endpoint
from integrations.models import Delivery, WebhookEndpoint
from integrations.url_guard import UnsafeAddress, check_webhook_url
from privacy.models import Processor

CHANNEL = "api"


class EndpointOutput(serializers.ModelSerializer):
    recipient = serializers.PrimaryKeyRelatedField(read_only=True)
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    event_kinds = serializers.ListField(child=serializers.ChoiceField(choices=EventKind.choices))

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "name",
            "url",
            "recipient",
            "recipient_name",
            "event_kinds",
            "is_active",
            "failing_since",
            "created_at",
        )


class EndpointCreatedOutput(EndpointOutput):
    secret = serializers.CharField(
        help_text="The signing secret, in this answer only: store it now; it is never shown again."
    )

    class Meta(EndpointOutput.Meta):
        fields = (*EndpointOutput.Meta.fields, "secret")


class EndpointInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    url = serializers.URLField(max_length=500, help_text="A public https address.")
    recipient = serializers.PrimaryKeyRelatedField(
        queryset=Processor.objects.all(),
        help_text="The recipient in the processor register this system belongs to.",
    )
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices), allow_empty=False
    )

    def validate_url(self, value: str) -> str:
        """Refuse a private or loopback address with the other field errors."""
        try:
            check_webhook_url(value)
        except UnsafeAddress as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class EndpointChangeInput(EndpointInput):
    is_active = serializers.BooleanField()


class SecretOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret, in this answer only.")


class EndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook endpoints; switch one off (`is_active: false`) rather than deleting it."""

    queryset = WebhookEndpoint.objects.select_related("recipient")
    serializer_class = EndpointOutput

    @extend_schema(request=EndpointInput, responses={201: EndpointCreatedOutput})
    def create(self, request: Request) -> Response:
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = create_endpoint(
            **data.validated_data, actor=request.user, channel=CHANNEL
        )
        endpoint.secret = secret
        return Response(EndpointCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndpointChangeInput, responses=EndpointOutput)
    def update(self, request: Request, pk: str | None = None, partial: bool = False) -> Response:
        endpoint = self.get_object()
        data = EndpointChangeInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        update_endpoint(
            endpoint=endpoint, actor=request.user, channel=CHANNEL, **data.validated_data
        )
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(request=EndpointChangeInput(partial=True), responses=EndpointOutput)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(request=None, responses=SecretOutput)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """Give the endpoint a new secret, returned this once; later deliveries use it."""
        secret = rotate_secret(endpoint=self.get_object(), actor=request.user, channel=CHANNEL)
        return Response(SecretOutput({"secret": secret}).data)


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = (
            "id",
            "endpoint",
            "event_id",
            "kind",
            "occurred_at",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        )


class DeliveryFilter(serializers.Serializer):
    # A database id: past a 64-bit integer SQLite and PostgreSQL refuse the query itself.
    endpoint = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=EventKind.choices, required=False)


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log, newest first: status and attempts, never the payload."""

    queryset = Delivery.objects.all()
    serializer_class = DeliveryOutput

    def get_queryset(self):
        if self.action != "list":
            return super().get_queryset()
        wanted = DeliveryFilter(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        return super().get_queryset().filter(**wanted.validated_data)

    @extend_schema(parameters=[DeliveryFilter])
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(request=None, responses=DeliveryOutput)
    @action(detail=True, methods=["post"], url_path="send-again")
    def send_again(self, request: Request, pk: str | None = None) -> Response:
        """Queue a given-up delivery again from its first attempt."""
        delivery = send_again(delivery=self.get_object(), actor=request.user, channel=CHANNEL)
        return Response(DeliveryOutput(delivery).data)
