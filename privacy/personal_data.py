"""Declare the platform's own models (Django's and this app's) in the personal-data registry."""

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_noop

from core.registry import Anonymise, Delete, Retain, registry
from crm.models import Contact, Suppression
from crm.suppression import stored_hashes, stored_hashes_of
from privacy.models import (
    Breach,
    BreachSubject,
    ConsentEvent,
    ConsentState,
    Disclosure,
    ErasureCertificate,
    NoticeDelivery,
    NoticeVersion,
    ProcessingActivity,
    Processor,
    Purpose,
    RecipientBatch,
    RecipientSubject,
    SubjectExport,
    SubjectRequest,
    TrackingBasis,
)


def _admin_log_rows(contact_ids: list[int]) -> QuerySet:
    """Return admin log entries about the contacts: their titles repeat the person's name."""

    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact),
        object_id__any_of=[str(pk) for pk in contact_ids],
    )


registry.declare(
    LogEntry,
    category="staff_activity",
    description=gettext_noop("Django admin's change history, whose entry titles name the person."),
    rows=_admin_log_rows,
    fields=("object_repr", "change_message"),
    export_fields=("action_time", "action_flag"),
    erasure=Delete(),
    # The audit trail tells the same changes on the timeline, for those who may read it.
    timeline_field=None,
)
registry.exempt(
    get_user_model(),
    reason="Staff accounts: employees' data under their employment, managed by administrators; "
    "not data subjects of the CRM.",
)


def _suppression_rows(contact_ids: list[int]) -> QuerySet:
    """Return the suppressions of the contacts' addresses, found by their keyed hashes."""
    return Suppression.objects.filter(email_hash__in=stored_hashes(contact_ids))


registry.declare(
    ConsentEvent,
    category="consent",
    description=gettext_noop(
        "The consent ledger: each grant, refusal and withdrawal with its proof."
    ),
    subject="contact",
    fields=("wording", "user_agent", "ip_address", "evidence", "backdate_reason"),
    export_fields=(
        "purpose",
        "action",
        "language",
        "notice_version",
        "channel",
        "occurred_at",
        "recorded_at",
    ),
    erasure=Delete(),
)
registry.declare(
    ConsentState,
    category="consent",
    description=gettext_noop("The current consent per purpose, derived from the ledger."),
    subject="contact",
    fields=(),
    export_fields=("purpose", "status", "since"),
    erasure=Delete(),
    # Derived from the ledger, whose events are on the timeline already.
    timeline_field=None,
)
registry.declare(
    NoticeDelivery,
    category="service_messages",
    description=gettext_noop(
        "That a notice of a material change to the privacy statement was mailed."
    ),
    subject="contact",
    fields=(),
    export_fields=("notice", "sent_at"),
    erasure=Delete(),
)
registry.declare(
    Suppression,
    category="suppression",
    description=gettext_noop(
        "A keyed hash of an opted-out address, so it is never contacted again."
    ),
    rows=_suppression_rows,
    fields=("email_hash",),
    export_fields=("client", "reason", "created_at", "lifted_at"),
    erasure=Retain(ground="Art. 17(3) and 21(3): kept so the person is never contacted again."),
)
registry.exempt(Purpose, reason="Purposes and legal bases; no person's data.")
registry.exempt(TrackingBasis, reason="Each sender's legal basis for tracking; no person's data.")
registry.exempt(NoticeVersion, reason="Versions of the privacy statement; no person's data.")


def _requests_rows(contact_ids: list[int]) -> QuerySet:
    """Return the requests made by the contacts, linked or matched by their address's hash."""
    return SubjectRequest.objects.filter(
        Q(contact_id__any_of=contact_ids) | Q(email_hash__any_of=stored_hashes_of(contact_ids))
    )


def _certificate_rows(contact_ids: list[int]) -> QuerySet:
    """Return earlier erasure certificates of the contacts' addresses."""
    return ErasureCertificate.objects.filter(email_hash__in=stored_hashes(contact_ids))


registry.declare(
    SubjectRequest,
    category="subject_requests",
    description=gettext_noop("Data-subject requests and how they were answered."),
    rows=_requests_rows,
    fields=("email", "details", "identity_check", "letter", "result", "extension_reason"),
    export_fields=("kind", "channel", "status", "received_at", "due_at", "completed_at"),
    # Kept for accountability (art. 5(2)) without the address; the retention rule removes it later.
    erasure=Anonymise(
        fields=(
            "email",
            "details",
            "identity_check",
            "letter",
            "result",
            "extension_reason",
            "contact",
        )
    ),
)
registry.declare(
    SubjectExport,
    category="subject_requests",
    description=gettext_noop(
        "Copies of a person's data made for an access or portability request."
    ),
    subject="contact",
    fields=("file",),
    export_fields=("created_at", "expires_at", "downloads"),
    erasure=Delete(),
)
registry.declare(
    ErasureCertificate,
    category="subject_requests",
    description=gettext_noop(
        "Proof that a person's data was erased: counts only, and the address's hash."
    ),
    rows=_certificate_rows,
    fields=("email_hash",),
    export_fields=("erased_at", "rows_found"),
    erasure=Retain(ground="Art. 5(2): proof that an erasure was carried out."),
)
registry.declare(
    Disclosure,
    category="disclosures",
    description=gettext_noop(
        "Disclosures to authorities: who asked, on which legal ground, what was given."
    ),
    subject="contact",
    fields=("data_given", "reference"),
    export_fields=("authority", "legal_ground", "disclosed_on"),
    # The disclosure itself stays on record for accountability, no longer linked to the person.
    erasure=Anonymise(fields=("contact",)),
)
registry.declare(
    BreachSubject,
    category="breaches",
    description=gettext_noop(
        "That a person was affected by a data breach, and when they were told."
    ),
    subject="contact",
    fields=(),
    export_fields=("breach", "notified_at"),
    erasure=Delete(),
)
registry.exempt(Breach, reason="What happened and what was done; affected people are linked only.")
registry.exempt(ProcessingActivity, reason="The record of processing: categories, not people.")
registry.exempt(Processor, reason="Organisations that process data for us; no person's data.")
registry.declare(
    RecipientSubject,
    category="recipients",
    description=gettext_noop(
        "Who received your data from us: each recipient, when, and their reference for you."
    ),
    subject="contact",
    fields=("reference",),
    export_fields=("recipient", "batch", "created_at"),
    # Erasure reads the recipients first (its event tells each of them), then removes the rows.
    erasure=Delete(),
)
registry.exempt(
    RecipientBatch, reason="What was handed to whom and how many people; people linked only."
)
