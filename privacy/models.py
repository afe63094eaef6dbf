"""Purposes, notices, the consent ledger, data-subject requests, retention, registers, breaches."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.legal import LegalBasis
from core.storage import private_storage


class Purpose(models.Model):
    """Why personal data is processed, and the legal basis that allows it (GDPR art. 6)."""

    LegalBasis = LegalBasis

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField()
    legal_basis = models.CharField(max_length=24, choices=LegalBasis.choices)
    consent_text = models.TextField(
        blank=True,
        help_text="The exact sentence shown next to the consent box; stored with every event.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_consent(self) -> bool:
        """Say whether processing for this purpose is lawful only with the person's consent."""
        return self.legal_basis == self.LegalBasis.CONSENT


class NoticeVersion(models.Model):
    """One version of the privacy statement, kept readable after it is replaced."""

    version = models.CharField(max_length=20, unique=True, help_text="Like 2026.2.")
    title = models.CharField(max_length=200, default="Privacy statement")
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")
    summary_of_changes = models.TextField(
        blank=True, help_text="What changed since the previous version, in a few sentences."
    )
    effective_at = models.DateTimeField()
    is_material_change = models.BooleanField(
        default=False,
        help_text="A material change is mailed to every contact we may e-mail for service "
        "messages when the version is published.",
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
    )

    class Meta:
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return f"{self.title} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("privacy-notice-version", args=[self.version])


class ConsentEvent(models.Model):
    """An append-only entry of the consent ledger, with its proof (GDPR art. 7(1))."""

    class Action(models.TextChoices):
        GRANT = "grant", "Granted"
        REFUSE = "refuse", "Refused"
        WITHDRAW = "withdraw", "Withdrawn"

    class Channel(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        DOUBLE_OPT_IN = "double_opt_in", "Double opt-in confirmation"
        IMPORT = "import", "Import with the client's attestation"
        STAFF_PHONE = "staff_phone", "Staff, on the phone"
        STAFF_PAPER = "staff_paper", "Staff, on paper"
        PREFERENCE_CENTRE = "preference_centre", "Preference centre"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link"
        SUBJECT_REQUEST = "subject_request", "Data-subject request"
        API = "api", "API"
        # A withdrawal carried over from a duplicate record merged into this one.
        MERGE = "merge", "Merge of duplicate records"
        COOKIE_BANNER = "cookie_banner", "Cookie banner on the website"

    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.CASCADE,
        related_name="consent_events",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    wording = models.TextField(help_text="The exact text the person saw or was told.")
    notice_version = models.ForeignKey(
        NoticeVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(
        default=timezone.now, editable=False, help_text="When the ledger received the event."
    )
    backdate_reason = models.TextField(
        blank=True,
        help_text="Why the event is dated earlier than it was recorded (a backdated entry).",
    )
    language = models.CharField(
        max_length=8, blank=True, help_text="The language the wording was shown in."
    )
    user_agent = models.CharField(max_length=400, blank=True)
    ip_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="Kept only when CONSENT_RECORD_IP is on."
    )
    evidence = models.TextField(
        blank=True, help_text="For staff entries: who said what, when, and where it is filed."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Makes a repeated submission (double click, reused link, retried API call) one event.
    # NULL, not "", so the many events without a key never collide under the unique constraint.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key", "purpose"], name="privacy_consentevent_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["contact", "purpose", "occurred_at"], name="privacy_consent_ledger"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.purpose} ({self.occurred_at:%Y-%m-%d})"


class ConsentState(models.Model):
    """The current consent of one contact for one purpose, derived from the ledger."""

    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.CASCADE,
        related_name="consent_states",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=ConsentEvent.Action.choices)
    last_event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    since = models.DateTimeField()

    class Meta:
        ordering = ["purpose__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "purpose"], name="privacy_consentstate_unique"
            ),
        ]
        # Audience queries: "every contact who granted purpose P".
        indexes = [
            models.Index(fields=["purpose", "status", "contact"], name="privacy_consent_audience")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.get_status_display()}"


class NoticeDelivery(models.Model):
    """That a material-change notice was mailed to a contact: makes the mailing happen once."""

    notice = models.ForeignKey(NoticeVersion, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.CASCADE,
        related_name="notice_deliveries",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "contact"], name="privacy_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notice} to contact #{self.contact_id}"


class SubjectRequest(models.Model):
    """A data-subject request (GDPR art. 15-22) and its legal clock (art. 12(3))."""

    class Kind(models.TextChoices):
        # Labels are translated: requesters read them on the form, the status page and mails.
        ACCESS = "access", _("Access (a copy of my data)")
        RECTIFICATION = "rectification", _("Rectification (correct my data)")
        ERASURE = "erasure", _("Erasure (delete my data)")
        PORTABILITY = "portability", _("Portability (my data in a reusable format)")
        RESTRICTION = "restriction", _("Restriction (stop using my data for now)")
        OBJECTION = "objection", _("Objection (stop processing on legitimate interest)")
        WITHDRAW_CONSENT = "withdraw_consent", _("Withdraw every consent")
        EXCLUSION = "exclusion", _("Exclusion from the CRM")

    class Channel(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        EMAIL = "email", "E-mail"
        POST = "post", "Letter"
        API = "api", "API"

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Waiting for e-mail verification")
        EXPIRED = "expired", _("Never verified (expired)")
        OPEN = "open", _("Open: waiting for the privacy officer")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Normalised address of the requester; blanked when their data is erased (the hash stays).
    email = models.EmailField(max_length=254, blank=True)
    email_hash = models.CharField(max_length=64, db_index=True, editable=False)
    contact = models.ForeignKey(
        "crm.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subject_requests",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    details = models.TextField(blank=True, help_text="What the requester wrote.")
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="The language the person wrote in (a web request: the form's); the mails use "
        "it when the address is no contact's.",
    )
    purposes = models.ManyToManyField(
        Purpose, blank=True, related_name="+", help_text="For an objection: the purposes named."
    )
    status = models.CharField(max_length=12, choices=Status.choices, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    identity_check = models.TextField(
        blank=True, help_text="For e-mail and letters: how the requester's identity was checked."
    )
    letter = models.FileField(
        upload_to="requests/letters/",
        storage=private_storage,
        blank=True,
        help_text="The scanned letter, stored privately.",
    )
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    extended_due_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    possibly_excessive = models.BooleanField(
        default=False,
        help_text="The same person asked the same within the configured period (art. 12(5)); "
        "the decision to refuse stays with the officer.",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True, help_text="What was done, as told to the requester.")
    wants_recipients = models.BooleanField(
        default=False,
        help_text="The requester asked who received their data (art. 19): the answer lists them.",
    )
    # Single use: cleared when the verification link is used.
    verification_nonce = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["due_at", "received_at"]
        indexes = [models.Index(fields=["status", "due_at"], name="privacy_request_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def deadline(self) -> datetime | None:
        """Return the date the answer is due, extended or not."""
        return self.extended_due_at or self.due_at


class SubjectExport(models.Model):
    """A zipped access or portability export, stored privately, downloadable until it expires."""

    request = models.ForeignKey(
        SubjectRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    contact = models.ForeignKey(
        "crm.Contact",
        null=True,
        on_delete=models.SET_NULL,
        related_name="exports",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    file = models.FileField(upload_to="exports/", storage=private_storage)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export #{self.pk}"


class ErasureCertificate(models.Model):
    """Proof of an erasure: counts per table and the scan for leftovers, never the data itself."""

    request = models.ForeignKey(
        SubjectRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    email_hash = models.CharField(max_length=64, db_index=True)
    contact_ref = models.PositiveBigIntegerField(help_text="The id the erased contact had.")
    erased_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    removed = models.JSONField(default=dict, help_text="Rows deleted or anonymised, per table.")
    retained = models.JSONField(default=dict, help_text="Rows kept on a legal ground, per table.")
    scan = models.JSONField(default=dict, help_text="Rows still holding an identifier, per table.")
    scan_method = models.JSONField(
        default=dict, help_text="Per table: the fields scanned, how they were matched, which rows."
    )
    rows_found = models.PositiveIntegerField(help_text="Leftovers found by the scan; 0 expected.")
    reviewed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the privacy officer dealt with the leftovers found."
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure certificate #{self.pk}"


class RetentionRule(models.Model):
    """How long one kind of personal data is kept (GDPR art. 5(1)(e)); run nightly."""

    class Action(models.TextChoices):
        DELETE = "delete", _("Delete")
        ANONYMISE = "anonymise", _("Anonymise")

    kind = models.CharField(
        max_length=40, unique=True, help_text="Which rows the rule selects and which age counts."
    )
    period_days = models.PositiveIntegerField(help_text="Rows older than this are removed.")
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.DELETE)
    is_active = models.BooleanField(default=True)
    note = models.TextField(blank=True, help_text="Why this period: the policy or the law.")
    updated_at = models.DateTimeField(auto_now=True)
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
    )

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.kind


class RetentionRun(models.Model):
    """One run of one rule: its counts (never names), its progress, and whether it finished."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        INTERRUPTED = "interrupted", "Interrupted (re-run reaches the same end)"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(RetentionRule, on_delete=models.CASCADE, related_name="runs")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    cutoff = models.DateTimeField(help_text="Rows older than this were selected.")
    selected = models.PositiveIntegerField(default=0)
    acted = models.PositiveIntegerField(default=0)
    skipped_restricted = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(
        default=0, help_text="People anonymised, not deleted: a legal hold keeps some records."
    )
    batches = models.PositiveIntegerField(default=0)
    # Rows removed or anonymised per table: the receipt. Counts only, never names or addresses.
    receipt = models.JSONField(default=dict)
    error = models.CharField(max_length=300, blank=True)
    # Only one run may act at a time: a second start fails on this constraint.
    lock = models.BooleanField(null=True, default=True, editable=False)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lock"],
                condition=models.Q(status="running", dry_run=False),
                name="privacy_retention_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} at {self.started_at:%Y-%m-%d %H:%M}"


class TrackingBasis(models.Model):
    """The privacy officer's legal basis, per sender, for tracking e-mails and web visits.

    No row means consent for both: nothing is tracked unless the person agreed.
    """

    class Basis(models.TextChoices):
        CONSENT = "consent", "Consent: only people who agreed"
        LEGITIMATE_INTEREST = (
            "legitimate_interest",
            "Legitimate interest: everyone who has not objected",
        )
        OFF = "off", "Not tracked at all"

    client = models.OneToOneField(
        "crm.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tracking_basis",
        help_text="The sender; empty for the e-mails we send for ourselves.",
    )
    email_tracking = models.CharField(
        "opens and clicks", max_length=24, choices=Basis.choices, default=Basis.CONSENT
    )
    web_activity = models.CharField(
        "web visits after a click", max_length=24, choices=Basis.choices, default=Basis.CONSENT
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "tracking bases"
        constraints = [
            # One row for ourselves (no client) as well: NULLs are otherwise all distinct.
            models.UniqueConstraint(
                Coalesce("client", models.Value(0)),
                name="privacy_trackingbasis_one_per_sender",
            ),
        ]

    def __str__(self) -> str:
        return f"Tracking basis of {self.client or 'our own e-mails'}"


# The records of who received whose data live in their own module, kept short; import them here
# so `privacy.models` stays the one place the app's models are read from.
from privacy.accountability.models import (  # noqa: E402, F401
    Breach,
    BreachSubject,
    Disclosure,
    ProcessingActivity,
    Processor,
)
from privacy.recipient_models import RecipientBatch, RecipientSubject  # noqa: E402, F401
