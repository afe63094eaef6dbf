"""Declare the CRM's models in the personal-data registry."""

from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from core.registry import Anonymise, Delete, Retain, registry
from crm.models import (
    BulkAction,
    Client,
    Company,
    Contact,
    ContactList,
    ContactSource,
    ImportBatch,
    ImportRejection,
    Interaction,
    Invoice,
    Source,
    Tag,
)
from crm.suppression import stored_hashes


def _rejected_rows(contact_ids: list[int]) -> QuerySet:
    """Return the rejected import rows that carry the contacts' addresses (by keyed hash)."""
    # A subquery: removal applies address-keyed declarations while the contacts still exist.
    return ImportRejection.objects.filter(email_hash__in=stored_hashes(contact_ids))


registry.declare(
    Contact,
    category="contact_identity",
    description=gettext_noop(
        "Name, e-mail, phone, job, company, country, language and status of a person."
    ),
    subject="",
    fields=(
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "country",
        "language",
        "birth_date",
    ),
    # Only these can hold the address or phone the erasure's scan looks for: both are compared
    # whole, through their indexes, instead of reading every contact's names and job.
    identifier_fields=("email", "phone"),
    export_fields=(
        "company",
        "relationship",
        "last_activity_at",
        "is_restricted",
        "email_status",
        "created_at",
        "updated_at",
    ),
    erasure=Delete(),
    # Invoices under their legal hold still point at the person: blank them instead.
    on_hold=Anonymise(
        fields=(
            "first_name",
            "last_name",
            "email",
            "email_hash",
            "phone",
            "job_title",
            "company",
            "country",
            "language",
            "birth_date",
            "last_activity_at",
        )
    ),
)
registry.declare(
    ContactSource,
    category="provenance",
    description=gettext_noop(
        "Where, when and by whom a person's data was collected, and when they were told."
    ),
    subject="contact",
    fields=("reference",),
    export_fields=("source", "collected_at", "informed_at"),
    erasure=Delete(),
)
registry.declare(
    Interaction,
    category="interactions",
    description=gettext_noop(
        "Notes of calls, meetings, e-mails and contact-form messages with a person."
    ),
    subject="contact",
    fields=("subject", "body"),
    export_fields=("kind", "occurred_at"),
    erasure=Delete(),
)
registry.declare(
    Invoice,
    category="billing",
    description=gettext_noop(
        "Invoices: number, dates and amount, kept for the tax and accounting rules."
    ),
    subject="contact",
    fields=(),
    export_fields=("number", "issued_on", "due_on", "amount", "currency"),
    erasure=Retain(
        ground="Billing records are kept at least one year after the invoice's due date.",
        until_field="hold_until",
    ),
)
registry.declare(
    ImportRejection,
    category="import_reports",
    description="Rows of a list supplied to us that we refused, with the reason, for the report.",
    rows=_rejected_rows,
    fields=("cells",),
    export_fields=("batch", "row_number", "reason", "created_at"),
    erasure=Delete(),
)
registry.exempt(
    ImportBatch,
    reason="Who supplied a list, on what basis, its column mapping and counts. The uploaded file "
    "is deleted when the batch ends; the people in it are contacts or rejected rows, declared.",
)
registry.exempt(
    Company,
    reason="Organisations' own details (switchboard phone, office address); a person's details "
    "belong on their Contact, never on the company.",
)
registry.exempt(Client, reason="Organisations we work for; no person's data.")
registry.exempt(Source, reason="Names of forms, directories, lists and events; no person's data.")
registry.exempt(Tag, reason="A label's name; which people carry it is part of their contact.")
registry.exempt(
    BulkAction,
    reason="What a bulk change did (tags, a relationship, an offline consent's wording and "
    "evidence, an erasure's reason) and to which contact ids, with counts; like the audit trail, "
    "it names people by id only.",
)
registry.exempt(
    ContactList,
    reason="A static list's name and description; who is on it is part of their contact.",
)
