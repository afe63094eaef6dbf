"""Companies, contacts, their provenance and interactions, and the clients we work for."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from core.hashing import stored_email_hash
from core.normalisation import PHONE_MAX_LENGTH


class Client(models.Model):
    """An organisation on whose behalf campaigns are sent and lists are supplied."""

    name = models.CharField(max_length=200, unique=True)
    website = models.URLField(blank=True)
    country = CountryField(
        blank=True,
        help_text="Where the client works: local phone numbers in its lists are read in this "
        "country when neither the row nor the company gives one.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Suppression(models.Model):
    """A keyed hash of an address that must not be contacted again (DESIGN rule 4)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
        OBJECTION = "objection", "Objected (art. 21)"
        ERASURE = "erasure", "Erased (art. 17)"
        COMPLAINT = "complaint", "Marked as spam"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"

    # HMAC-SHA256 of the normalised address with PRIVACY_HASH_KEY: no address is kept.
    email_hash = models.CharField(max_length=64)
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="suppressions",
        help_text="Empty for a global suppression (every sender).",
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "privacy_suppression"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email_hash"],
                condition=models.Q(client__isnull=True, lifted_at__isnull=True),
                name="privacy_suppression_global_once",
            ),
            models.UniqueConstraint(
                fields=["email_hash", "client"],
                condition=models.Q(client__isnull=False, lifted_at__isnull=True),
                name="privacy_suppression_client_once",
            ),
        ]
        indexes = [models.Index(fields=["email_hash"], name="privacy_suppression_hash")]

    def __str__(self) -> str:
        scope = self.client or "all senders"
        return f"{self.get_reason_display()} ({scope})"


class Company(models.Model):
    """An organisation contacts work for."""

    name = models.CharField(max_length=200, db_index=True)
    website = models.URLField(blank=True)
    domain = models.CharField(
        max_length=253, blank=True, db_index=True, help_text="Bare domain, like example.org."
    )
    industry = models.CharField(max_length=100, blank=True, db_index=True)
    phone = models.CharField(
        max_length=PHONE_MAX_LENGTH,
        blank=True,
        help_text="Stored in E.164 form, an extension after it as ;ext=123.",
    )
    address = models.TextField(blank=True)
    country = CountryField(blank=True, db_index=True)
    registration_number = models.CharField(max_length=64, blank=True)
    vat_number = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A label staff put on contacts to group them (segments filter on it)."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person: the data subject every personal-data row leads back to."""

    class Relationship(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        PROSPECT = "prospect", "Prospect"
        CLIENT_EMPLOYEE = "client_employee", "Client employee"
        PARTNER_EMPLOYEE = "partner_employee", "Partner employee"
        SUBSCRIBER = "subscriber", "Subscriber"

    class EmailStatus(models.TextChoices):
        VALID = "valid", "Valid"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        SUSPENDED = "suspended", "Suspended after repeated soft bounces"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Normalised (core.normalisation.normalise_email); NULL when unknown, so uniqueness holds only
    # between known addresses. Compared byte for byte on PostgreSQL (migration 0026), so the
    # unique index serves prefix searches too.
    email = models.EmailField(max_length=254, null=True, blank=True, unique=True)
    # Keyed hash of `email`, kept by save(): audiences and imports match suppressions (which hold
    # only hashes) in the database without hashing every address again.
    email_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    phone = models.CharField(
        max_length=PHONE_MAX_LENGTH,
        blank=True,
        help_text="Stored in E.164 form, an extension after it as ;ext=123.",
    )
    job_title = models.CharField(max_length=150, blank=True)
    # Indexed in Meta, only where set.
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,
    )
    country = CountryField(blank=True)
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)
    birth_date = models.DateField(null=True, blank=True)
    relationship = models.CharField(
        max_length=20, choices=Relationship.choices, default=Relationship.PROSPECT
    )
    # No index: no page or job looks contacts up by owner; deleting a member of staff reads the
    # table once to clear it, which is rare, while every contact written pays for an index.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text="The member of staff who looks after this contact.",
    )
    last_activity_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last action of the person themselves; never a staff edit or an import.",
    )
    # No database foreign keys in the link table: guarded by the orphan triggers (core/orphans.py).
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", db_constraint=False)
    is_restricted = models.BooleanField(
        "processing restricted",
        default=False,
        help_text="Art. 18: stored only; no campaigns, no profiling, no edits but corrections.",
    )
    email_status = models.CharField(
        max_length=12, choices=EmailStatus.choices, default=EmailStatus.VALID
    )
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when the person was erased but records under a legal hold still point here.",
    )
    # A duplicate merged into another record keeps only its id and where it went
    # (privacy/merging.py).
    # No database constraint: erasure deletes the kept record in one statement, leaving this id.
    # Indexed in Meta: the erasure of a kept record finds the records merged into it.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="merged_duplicates",
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("export_contacts", "Can export contacts in bulk (asks for a reason)"),
            ("merge_contacts", "Can merge duplicate contacts"),
            ("bulk_change_contacts", "Can change many contacts at once (tags, relationship)"),
        ]
        indexes = [
            # The admin list filters by country and shows newest first; the merge mark is carried
            # so the filtered list's exact count reads the index alone, not the table.
            models.Index(
                fields=["country", "id"], include=["merged_into"], name="crm_contact_country_id"
            ),
            models.Index(fields=["relationship", "id"], name="crm_contact_relationship_id"),
            # Partial: only the rows a look-up can find. Every query these serve names a value
            # (`= x`, `< x`), which PostgreSQL and SQLite know the condition holds for, and a
            # contact written without one (most of an import's) costs none of these indexes.
            # Duplicates are found by phone number.
            models.Index(fields=["phone"], condition=~Q(phone=""), name="crm_contact_phone_given"),
            # A company's people, and clearing the link when it is deleted.
            models.Index(
                fields=["company"], condition=Q(company__isnull=False), name="crm_contact_company"
            ),
            # The admin's and segments' "active since" and "inactive for" filters.
            models.Index(
                fields=["last_activity_at"],
                condition=Q(last_activity_at__isnull=False),
                name="crm_contact_last_activity",
            ),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="crm_contact_merged_into",
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or f"Contact #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        """Keep `email_hash` in step with `email`, also when only some fields are saved."""
        self.email_hash = stored_email_hash(self.email) if self.email else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_hash"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("admin:crm_contact_change", args=[self.pk])


class ContactList(models.Model):
    """A static list: the contacts staff put on it by hand or in bulk (segments may use it)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    # No database foreign keys in the link table: guarded by the orphan triggers (core/orphans.py).
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="lists", db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Source(models.Model):
    """Where contacts come from: a form, a directory, a client's list, an event."""

    class Kind(models.TextChoices):
        # Translated: the art. 14 notice names the kind of source to the person.
        WEB_FORM = "web_form", _("Web form")
        BUSINESS_DIRECTORY = "business_directory", _("Public source: business directory")
        PUBLIC_WEBSITE = "public_website", _("Public source: public website")
        SOCIAL_MEDIA = "social_media", _("Public source: social media")
        CLIENT_LIST = "client_list", _("Client-supplied list")
        BUSINESS_PARTNER = "business_partner", _("Business partner")
        THIRD_PARTY = "third_party", _("Third-party service")
        STAFF_ENTRY = "staff_entry", _("Staff entry")
        EVENT = "event", _("Event")

    # GDPR art. 14: data not obtained from the person must be followed by informing them.
    INDIRECT_KINDS = frozenset(
        {
            Kind.BUSINESS_DIRECTORY,
            Kind.PUBLIC_WEBSITE,
            Kind.SOCIAL_MEDIA,
            Kind.CLIENT_LIST,
            Kind.BUSINESS_PARTNER,
            Kind.THIRD_PARTY,
        }
    )

    kind = models.CharField(max_length=24, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=200, help_text="Like 'Newsletter form' or 'Kompass NL'.")
    url = models.URLField(blank=True, help_text="The directory or website, for public sources.")
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sources",
        help_text="The client that supplied the list, for client-supplied lists.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "name", "client"],
                condition=models.Q(client__isnull=False),
                name="crm_source_unique_per_client",
            ),
            models.UniqueConstraint(
                fields=["kind", "name"],
                condition=models.Q(client__isnull=True),
                name="crm_source_unique_own",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="client_list") | models.Q(client__isnull=False),
                name="crm_source_client_list_has_client",
                violation_error_message="A client-supplied list must name its client.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def is_indirect(self) -> bool:
        """Say whether data from this source was not collected from the person themselves."""
        return self.kind in self.INDIRECT_KINDS


class ContactSource(models.Model):
    """One piece of provenance: this contact came from that source, on that date, by whom."""

    # No index of its own: the unique constraints below lead with the contact.
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="provenance",
        db_index=False,
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    # Indexed for the segments by source; no database constraint: an import writes a row per
    # contact pointing at the same source, each checked at commit, while deleting a source is
    # refused by the ORM (PROTECT) and no statement of ours deletes one otherwise.
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="contact_sources", db_constraint=False
    )
    collected_at = models.DateTimeField()
    reference = models.CharField(
        max_length=500, blank=True, help_text="URL of the page, list file or import batch."
    )
    # No index: only deleting a member of staff looks provenance up by collector.
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    informed_at = models.DateField(
        null=True,
        blank=True,
        help_text="Art. 14: when the person was told we hold their data (indirect sources).",
    )
    # Indexed for the segments by list import; no database constraint, like the source's: the ORM
    # clears it when a batch is deleted (SET_NULL), and batches are kept, never deleted in SQL.
    import_batch = models.ForeignKey(
        "ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="provenance",
        help_text="The list import that brought this contact in, for imported contacts.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        verbose_name = "provenance"
        verbose_name_plural = "provenance"
        constraints = [
            # An import's provenance is unique per batch (two bigints, not a 500-character
            # reference); this index also serves every look-up by contact.
            models.UniqueConstraint(
                fields=["contact", "import_batch"], name="crm_contactsource_unique_per_batch"
            ),
            # Any other provenance is unique per source and reference.
            models.UniqueConstraint(
                fields=["contact", "source", "reference"],
                condition=models.Q(import_batch__isnull=True),
                name="crm_contactsource_unique_outside_imports",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} ({self.collected_at:%Y-%m-%d})"


class Interaction(models.Model):
    """A note, call, meeting, e-mail or contact-form message about one contact."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "E-mail"
        CONTACT_FORM = "contact_form", "Contact-form message"

    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        related_name="interactions",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="For contact-form messages: when staff answered it."
    )
    confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="For contact-form messages: when staff confirmed the person sent it "
        "(until answered or confirmed, the sender is unverified).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["contact", "-occurred_at"], name="crm_interaction_contact")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"


class Invoice(models.Model):
    """A minimal billing record pushed by integrators, kept under a legal hold.

    Billing data is kept at least one year and at most three years from the invoice's due date:
    until `hold_until` an erasure anonymises the person but keeps the invoice; the retention rule
    for invoices removes it three years after the due date.
    """

    number = models.CharField(max_length=64, unique=True)
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        related_name="invoices",
        db_constraint=False,  # Guarded by the orphan triggers (core/orphans.py).
    )
    issued_on = models.DateField()
    due_on = models.DateField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    hold_until = models.DateField(
        editable=False, db_index=True, help_text="One year after the due date: the legal hold."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("issued_on")),
                name="crm_invoice_due_after_issue",
                violation_error_message="The due date cannot be before the issue date.",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="crm_invoice_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class BulkAction(models.Model):
    """One change to many selected contacts, run in batches and resumable (privacy/bulk.py)."""

    class Kind(models.TextChoices):
        ADD_TAGS = "add_tags", "Add tags"
        REMOVE_TAGS = "remove_tags", "Remove tags"
        SET_RELATIONSHIP = "set_relationship", "Set the relationship"
        SET_OWNER = "set_owner", "Set the owner"
        ADD_TO_LIST = "add_to_list", "Add to a list"
        REMOVE_FROM_LIST = "remove_from_list", "Remove from a list"
        RECORD_CONSENT = "record_consent", "Record a consent given offline"
        START_ERASURE = "start_erasure", "Erase"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What to do (tag names, a relationship, a purpose with its wording and evidence, a reason):
    # never a person's data; the people are the ids.
    params = models.JSONField(default=dict)
    contact_ids = models.JSONField(default=list, help_text="The selection, as it was chosen.")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="How many ids were handled so far.")
    acted = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, help_text="Skipped contacts per reason.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.total} contacts"


# The import's models live beside the import's code; Django finds them through this module.
from crm.imports.models import ImportBatch, ImportRejection  # noqa: E402

__all__ = ["ImportBatch", "ImportRejection"]
