"""The ground floor's tables: the audit trail (`core.audit`) and the task outbox (`core.outbox`).

Both tables keep the names they had when they belonged to the privacy and config apps.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class OutboxTask(models.Model):
    """A Celery task queued by a committed transaction and not yet accepted by the broker."""

    task = models.CharField(max_length=200, help_text="The task's registered name.")
    args = models.JSONField(
        default=list,
        blank=True,
        help_text="Ids, or an unconfirmed subscription's signed link; deleted once published.",
    )
    kwargs = models.JSONField(default=dict, blank=True)
    countdown = models.PositiveIntegerField(
        default=0, help_text="Seconds after it was queued before a worker may run it."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "config_outboxtask"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


class AuditEvent(models.Model):
    """An append-only record of who did what to which record, carrying ids and flags only."""

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed"
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"
        EXPORTED = "exported", "Exported"
        ERASED = "erased", "Erased"
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed login"

    class Channel(models.TextChoices):
        """Where the change was asked for: a staff screen, a program, or the person's own act."""

        ADMIN = "admin", "Admin"
        API = "api", "API"
        COMMAND = "command", "Management command"
        TASK = "task", "Background task"
        CAMPAIGNS = "campaigns", "Campaign sending"
        WEBHOOK = "webhook", "E-mail provider's webhook"
        MAILBOX = "mailbox", "Bounce mailbox"
        PUBLIC = "public", "Public page"
        WEB_FORM = "web_form", "Web form"
        DOUBLE_OPT_IN = "double_opt_in", "Double opt-in confirmation"
        PREFERENCE_CENTRE = "preference_centre", "Preference centre"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link"
        SUBJECT_REQUEST = "subject_request", "Data-subject request"
        IMPORT = "import", "List import"
        STAFF_PHONE = "staff_phone", "Staff, on the phone"
        STAFF_PAPER = "staff_paper", "Staff, on paper"
        EMAIL = "email", "E-mail"
        POST = "post", "Letter"
        COOKIE_BANNER = "cookie_banner", "Cookie banner on the website"

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
    object_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    reason = models.CharField(max_length=500, blank=True)
    # Field names and flags only; values of personal fields never go here.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "privacy_auditevent"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="privacy_audit_object")]

    def __str__(self) -> str:
        if self.object_type_id is None:
            return self.get_action_display()
        return f"{self.action} {self.object_type.model} #{self.object_id}"


class OutboundEvent(models.Model):
    """A change other systems hear about, written in the changing transaction (`core.events`).

    The integrations beat task turns it into one signed delivery per webhook endpoint that wants
    it (and, for a rectification, erasure or restriction, one notice per recipient of the
    person's data), then deletes it. It carries ids, the names of changed fields, and for an
    erasure the address's keyed hash: never the data itself.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    kind = models.CharField(max_length=40, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    contact_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The person the event is about, if any."
    )
    data = models.JSONField(default=dict, blank=True, help_text="Ids, field names and flags.")

    class Meta:
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class TaskRun(models.Model):
    """The last run of one periodic task as a worker saw it: when it started, ended, and how."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    task = models.CharField(max_length=200, unique=True, help_text="The task's registered name.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # The exception's class only: its message may quote a person's data.
    error = models.CharField(max_length=200, blank=True)
    last_succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["task"]

    def __str__(self) -> str:
        return self.task


class TaskFailure(models.Model):
    """One failed run of any task: its name, when, and the exception's class, never its message."""

    task = models.CharField(max_length=200)
    failed_at = models.DateTimeField(db_index=True)
    error = models.CharField(max_length=200)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.task} at {self.failed_at:%Y-%m-%d %H:%M}"
