"""Who received whose personal data (GDPR art. 15(1)(c), 19, 30(1)(d)): hand-overs and people.

Read and written by `privacy.accountability.recipients`; re-exported by `privacy.models`.
"""

from django.conf import settings
from django.db import models


class RecipientBatch(models.Model):
    """One hand-over of people's data to a recipient: a disclosure, a shared list, an export."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook events"
        LIST = "list", "List shared with a client"
        EXPORT = "export", "Export to another system"
        DISCLOSURE = "disclosure", "Other disclosure"

    recipient = models.ForeignKey(
        "privacy.Processor", on_delete=models.PROTECT, related_name="batches"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=300, help_text="What was given, in categories.")
    reference = models.CharField(
        max_length=100, blank=True, help_text="Like the day of a webhook's events."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    people = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "recipient batches"
        constraints = [
            # One batch per recipient and day for webhook events, so concurrent deliveries share it.
            models.UniqueConstraint(
                fields=["recipient", "reference"],
                condition=models.Q(kind="webhook"),
                name="privacy_webhook_batch_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}, {self.created_at:%Y-%m-%d}"


class RecipientSubject(models.Model):
    """That one person's data went to a recipient in a batch, and the recipient's reference."""

    batch = models.ForeignKey(RecipientBatch, on_delete=models.CASCADE, related_name="subjects")
    recipient = models.ForeignKey("privacy.Processor", on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.CASCADE,
        related_name="recipient_records",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    reference = models.CharField(
        max_length=200,
        blank=True,
        help_text="The recipient's own id for the person, quoted when a change is passed on.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "contact"], name="privacy_recipient_once")
        ]
        indexes = [models.Index(fields=["contact", "recipient"], name="privacy_recipient_contact")]

    def __str__(self) -> str:
        return f"{self.recipient} holds contact #{self.contact_id}"
