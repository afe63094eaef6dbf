"""The project's own plumbing tables: the task outbox (see `config.outbox`)."""

from django.db import models


class OutboxTask(models.Model):
    """A Celery task queued by a committed transaction and not yet accepted by the broker."""

    task = models.CharField(max_length=200, help_text="The task's registered name.")
    args = models.JSONField(default=list, blank=True, help_text="Ids only, never personal data.")
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
