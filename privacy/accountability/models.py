"""The accountability records: processing activities, processors, disclosures and breaches.

Kept beside the accountability code to keep `privacy/models.py` short; `privacy.models`
re-exports them, so they are read from there like every other model of the app.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


class ProcessingActivity(models.Model):
    """One entry of the record of processing activities (GDPR art. 30(1))."""

    name = models.CharField(max_length=150, unique=True)
    purposes = models.ManyToManyField("privacy.Purpose", related_name="activities")
    data_subjects = models.CharField(max_length=300, help_text="Like 'customers, subscribers'.")
    data_categories = models.TextField(help_text="What data: name, e-mail, order history…")
    recipients = models.TextField(blank=True, help_text="Who receives it, processors included.")
    storage = models.CharField(max_length=300, help_text="Where it is stored.")
    retention = models.CharField(max_length=300, help_text="How long, as the schedule says.")
    access = models.CharField(max_length=300, help_text="Which roles may see it, and why.")
    transfer_outside_eu = models.BooleanField(default=False)
    transfer_country = models.CharField(max_length=100, blank=True)
    transfer_safeguard = models.CharField(
        max_length=300, blank=True, help_text="Art. 46: adequacy decision, SCCs, BCRs…"
    )
    is_public = models.BooleanField(
        default=True,
        help_text="Shown on the public privacy page (the notice follows the register).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="The Dutch and Romanian wording the public sees: {language: {field: text}}.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "processing activities"

    def __str__(self) -> str:
        return self.name


class Processor(models.Model):
    """A processor or recipient of personal data, with where it keeps the data (art. 28, 30(1))."""

    name = models.CharField(max_length=150, unique=True)
    service = models.CharField(max_length=200, help_text="Like 'social login' or 'parcel carrier'.")
    data_shared = models.CharField(max_length=300)
    location = models.CharField(max_length=100, help_text="Country where the data is processed.")
    outside_eu = models.BooleanField(default=False)
    safeguard = models.CharField(
        max_length=300, blank=True, help_text="Required when outside the EU: SCCs, adequacy…"
    )
    agreement_signed_on = models.DateField(null=True, blank=True, help_text="The art. 28 contract.")
    website = models.URLField(blank=True)
    privacy_contact = models.EmailField(
        blank=True,
        help_text="Where a rectification, erasure or restriction is passed on (art. 19) when the "
        "recipient has no webhook: their privacy team's address, not a person's own.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Disclosure(models.Model):
    """A disclosure of personal data to an authority, with its legal ground (art. 6(1)(c))."""

    authority = models.CharField(max_length=200)
    legal_ground = models.CharField(max_length=300, help_text="The law or order that requires it.")
    reference = models.CharField(max_length=100, blank=True, help_text="The order's reference.")
    disclosed_on = models.DateField()
    contact = models.ForeignKey(
        "crm.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="disclosures",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    data_given = models.TextField(help_text="Which data was handed over (categories, not copies).")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-disclosed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.authority}, {self.disclosed_on}"


class Breach(models.Model):
    """A personal-data breach (art. 33-34) and its 72-hour clock."""

    title = models.CharField(max_length=200)
    detected_at = models.DateTimeField()
    description = models.TextField(help_text="What happened, how it was found, what was done.")
    data_categories = models.TextField(help_text="Which kinds of personal data are concerned.")
    likely_consequences = models.TextField(blank=True)
    measures = models.TextField(blank=True, help_text="Measures taken or proposed.")
    high_risk = models.BooleanField(
        default=False, help_text="Art. 34: the people themselves must be told without delay."
    )
    authority_notified_at = models.DateTimeField(null=True, blank=True)
    authority_reference = models.CharField(max_length=100, blank=True)
    delay_reason = models.TextField(
        blank=True, help_text="Art. 33(1): why the authority was told after 72 hours."
    )
    affected = models.ManyToManyField(
        "crm.Contact", blank=True, through="BreachSubject", related_name="breaches"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name_plural = "breaches"

    def __str__(self) -> str:
        return self.title

    @property
    def authority_deadline(self) -> datetime:
        """Return when the supervisory authority must have been told: 72 hours after detection."""
        return self.detected_at + timedelta(hours=72)


class BreachSubject(models.Model):
    """A person affected by a breach, and when they were told (art. 34)."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="subjects")
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["breach", "contact"], name="privacy_breach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.breach} / contact #{self.contact_id}"
