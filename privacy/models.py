"""The audit trail; purposes, the consent ledger, suppression and requests join it later."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditEvent(models.Model):
    """An append-only record of who did what to which record, carrying ids and flags only."""

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed"
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"
        EXPORTED = "exported", "Exported"
        ERASED = "erased", "Erased"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system itself (tasks, the public site).",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, help_text="admin, api, task, command or public.")
    reason = models.CharField(max_length=500, blank=True)
    # Field names and flags only; values of personal fields never go here.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="privacy_audit_object")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type.model} #{self.object_id}"
