"""Webhook endpoints, their deliveries, and the art. 19 notices to recipients of a person's data."""

from django.conf import settings
from django.db import models

from core.events import EventKind


class WebhookEndpoint(models.Model):
    """A receiver's URL, the secret its deliveries are signed with, and the events it wants."""

    name = models.CharField(max_length=150)
    url = models.URLField(max_length=500, help_text="Public https address; no private networks.")
    # Shown once when the endpoint is created, never again; kept to sign each delivery.
    secret = models.CharField(max_length=100, editable=False)
    event_kinds = models.JSONField(default=list, help_text="The event kinds it receives.")
    recipient = models.ForeignKey(
        "privacy.Processor",
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        help_text="The recipient in the processor register this system belongs to.",
    )
    is_active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="Set when a delivery gave up after a day of retries."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        """Say whether the endpoint asked for events of this kind."""
        return kind in self.event_kinds


class Delivery(models.Model):
    """One event for one endpoint: its attempts and outcome; the payload only until delivered."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        RETRYING = "retrying", "Failed, will be retried"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up after a day of retries"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(help_text="Sent as webhook-id: the receiver's de-duplication key.")
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    contact_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    payload = models.JSONField(null=True, blank=True, help_text="Cleared once delivered.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="integrations_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.endpoint_id} ({self.status})"


class RecipientNotice(models.Model):
    """A rectification, erasure or restriction passed on to one recipient (GDPR art. 19)."""

    class Method(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "E-mail to the recipient's privacy contact"
        NONE = "none", "No webhook and no privacy contact: pass it on by hand"

    class Status(models.TextChoices):
        PENDING = "pending", "Not yet sent"
        SENT = "sent", "Sent, not yet acknowledged"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        FAILED = "failed", "Could not be delivered"

    request = models.ForeignKey(
        "privacy.SubjectRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recipient_notices",
    )
    recipient = models.ForeignKey(
        "privacy.Processor", on_delete=models.PROTECT, related_name="art19_notices"
    )
    event_id = models.UUIDField()
    contact_ref = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="Our id of the person (gone once erased)."
    )
    change = models.CharField(max_length=40, choices=EventKind.choices)
    reference = models.CharField(
        max_length=200, blank=True, help_text="The recipient's own id for the person."
    )
    fields = models.JSONField(
        default=list, blank=True, help_text="For a rectification: the names of the fields."
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "recipient"], name="integrations_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_change_display()} to {self.recipient}"

    @property
    def reference_code(self) -> str:
        """Return the reference quoted to the recipient and in their acknowledgement."""
        return f"ART19-{str(self.event_id)[:8].upper()}-{self.pk}"
