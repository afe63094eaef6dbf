"""Segments, campaigns, their messages, tracked links and the events that come back."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from crm.models import Client, Company, Contact, Source, Tag
from privacy.models import Purpose

# A century: any longer reaches before the calendar's start and means "ever", which is no filter.
MAX_ACTIVE_WITHIN_DAYS = 36_500


class Segment(models.Model):
    """A saved filter over contacts; every criterion left empty matches everyone."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    companies = models.ManyToManyField(Company, blank=True, related_name="+")
    industries = models.JSONField(default=list, blank=True, help_text="Company industries.")
    countries = models.JSONField(default=list, blank=True, help_text="ISO 3166 country codes.")
    relationships = models.JSONField(default=list, blank=True)
    sources = models.ManyToManyField(Source, blank=True, related_name="+")
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    active_within_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_ACTIVE_WITHIN_DAYS)],
        help_text="Only people whose own last action is this recent.",
    )
    # Groups of conditions joined by AND/OR (campaigns.segment_rules), on top of the criteria above.
    rules = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailLayout(models.Model):
    """A reusable e-mail template: header and footer around a campaign's body, with its styles.

    The footer carries the sender's identity and the privacy links; `campaigns.layouts` refuses a
    layout without them when it is saved.
    """

    name = models.CharField(max_length=200, unique=True)
    html = models.TextField(
        help_text="The whole e-mail; {{ content }} marks where each campaign's body goes."
    )
    css = models.TextField(
        blank=True, help_text="Styles, inlined into every element when a message is rendered."
    )
    text_footer = models.TextField(help_text="Added under the plain-text body of every message.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "e-mail template"

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """One mailing: who sends it, for which purpose, what it says and to which segment."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    class AbMetric(models.TextChoices):
        OPENS = "opens", "Opens"
        CLICKS = "clicks", "Clicks"

    name = models.CharField(max_length=200)
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text="The sender; empty when we send for ourselves.",
    )
    from_email = models.EmailField(
        blank=True, help_text="The sender's address; empty for the default sender."
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="campaigns")
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns")
    language = models.CharField(
        "default language",
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of the subject and bodies below; readers whose language has no "
        "version of its own get these.",
    )
    layout = models.ForeignKey(
        EmailLayout,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name="e-mail template",
        help_text="The header and footer around the body; empty for the body alone.",
    )
    subject = models.CharField(max_length=200)
    subject_b = models.CharField(
        "second subject (A/B test)",
        max_length=200,
        blank=True,
        help_text="Filled in, a share of the audience is split between the two subjects first; "
        "the winner goes to everyone else.",
    )
    ab_share = models.PositiveSmallIntegerField(
        "share tested (%)",
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
        help_text="The share of the audience that gets one of the two subjects, half each.",
    )
    ab_wait_hours = models.PositiveSmallIntegerField(
        "hours before the winner",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    ab_metric = models.CharField(
        "winner by",
        max_length=8,
        choices=AbMetric.choices,
        default=AbMetric.OPENS,
    )
    ab_winner = models.CharField(max_length=1, blank=True, editable=False)
    ab_decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    html_body = models.TextField()
    text_body = models.TextField()
    scheduled_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignVersion(models.Model):
    """The campaign in another language: readers of that language get this subject and body."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(max_length=200)
    subject_b = models.CharField(
        "second subject (A/B test)",
        max_length=200,
        blank=True,
        help_text="Needed when the campaign tests a second subject.",
    )
    html_body = models.TextField()
    text_body = models.TextField()

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "language"], name="campaigns_version_once_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} ({self.get_language_display()})"


class TrackedLink(models.Model):
    """A link of a campaign's body; the click redirect goes only to these."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=2000)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url"], name="campaigns_link_once")
        ]

    def __str__(self) -> str:
        return self.url


class Message(models.Model):
    """One campaign e-mail to one person, created when sending starts, with an opaque token."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Being handed to the mail server"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (opted out before its turn)"
        HELD = "held", "Waiting for the A/B test's winner"

    # Found by campaign through the `once` and `queue` indexes, which both begin with it.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Emptied by erasure: the message stays so that the campaign's counts stay true.
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    # Unique by a constraint of its own: a pattern index for LIKE is never used on a token.
    token = models.CharField(max_length=43)
    # The version it carries: the reader's language when the campaign has it, else its default.
    language = models.CharField(max_length=8, blank=True, editable=False)
    # The subject it carries in an A/B test: "a", "b"; empty when the campaign tests nothing.
    variant = models.CharField(max_length=1, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a sending worker claimed it; a claim older than SENDING_CLAIM_LEASE is a dead worker's.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=200, blank=True, help_text="Never personal data.")
    # Decided per batch from the sender's tracking basis and the person's consent: a message sent
    # untracked carries no pixel and plain links, and no hit of it is ever written.
    tracked = models.BooleanField(default=False, db_default=False, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="campaigns_message_once"),
            models.UniqueConstraint(fields=["token"], name="campaigns_message_token_unique"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="campaigns_message_queue")
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class MessageEvent(models.Model):
    """Something that happened to a message: the country it came from, never the IP address."""

    class Kind(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        OPENED = "opened", "Opened"
        CLICKED = "clicked", "Clicked"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    class Origin(models.TextChoices):
        HUMAN = "human", "Human"
        MACHINE = "machine", "Machine (privacy proxy or security scanner)"
        UNKNOWN = "unknown", "Unknown"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    link = models.ForeignKey(
        TrackedLink, null=True, blank=True, on_delete=models.CASCADE, related_name="clicks"
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO code; empty if unknown.")
    detail = models.CharField(
        max_length=32,
        blank=True,
        help_text="For bounces: hard, soft or policy. Never personal data.",
    )
    occurred_at = models.DateTimeField()
    origin = models.CharField(
        max_length=7,
        choices=Origin.choices,
        default=Origin.UNKNOWN,
        db_default=Origin.UNKNOWN,
        help_text="For opens and clicks: the person, or a machine that fetched it for them.",
    )

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["campaign", "kind", "occurred_at"], name="campaigns_event_report"),
            models.Index(fields=["occurred_at"], name="campaigns_event_age"),
        ]
        permissions = [
            ("export_engagement", "Can export pseudonymised engagement for analysis"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of message #{self.message_id}"


class WebVisit(models.Model):
    """A page viewed or a file downloaded on the sender's website after a tracked click."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", "Page view"
        DOWNLOAD = "download", "Download"

    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="web_visits",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    # The click that began the visit; kept without its person when the message is unlinked.
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="web_visits"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    host = models.CharField(max_length=253, help_text="The website's domain.")
    path = models.CharField(max_length=500, help_text="Without its query string.")
    title = models.CharField(max_length=200, blank=True)
    referrer_domain = models.CharField(max_length=253, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="campaigns_visit_contact"),
            models.Index(fields=["occurred_at"], name="campaigns_visit_age"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.host}{self.path}"


class VisitorReference(models.Model):
    """A visitor reference of a click, once exchanged at the cookie banner: a reuse is refused."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Visitor reference used at {self.used_at:%Y-%m-%d %H:%M}"


class TrackingFlush(models.Model):
    """A batch of buffered opens and clicks written as events; a re-run of the batch skips it."""

    batch = models.CharField(max_length=36, unique=True)
    hits = models.PositiveIntegerField()
    events = models.PositiveIntegerField()
    flushed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-flushed_at"]

    def __str__(self) -> str:
        return f"Tracking batch {self.batch}"
