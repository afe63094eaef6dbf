"""The privacy check: what an operator or privacy officer must fix, as counts, never as people.

Failures make `manage.py privacy_check` exit non-zero: a model holding personal data missing from
the registry, an open data-subject request past its deadline (art. 12(3)), an active retention
rule whose rows have no data category (its kind unknown to `privacy.deletion.retention`, or its
model not declared), a processor or processing activity sending data outside the EU without a
safeguard (art. 44-46), a contact whose birth date makes them younger than 16 (art. 8), a kind
of contact (customer, prospect, employee of a client or partner, subscriber) that no active
retention rule expires (art. 5(1)(e)), and a controller setting (identity, address, privacy
contact, supervisory authority) left blank in production (art. 13(1)(a)-(b)). Warnings are
reported without failing: contacts without provenance, contacts from indirect sources not yet
informed (art. 14), erasure certificates whose scan found leftovers that the officer has not yet
reviewed, and processors without a signed agreement date (art. 28(3)). Processors and activities
are named (they are organisations and activities, not people); everything about people is a
count.
"""

from dataclasses import asdict, dataclass
from datetime import date

from django.apps import apps
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.dates import add_months
from core.registry import registry
from crm.contacts import MINIMUM_AGE
from crm.models import Contact, ContactSource, Source
from privacy.accountability.controller import missing_controller_settings
from privacy.accountability.registers import (
    activities_without_safeguard,
    processors_without_safeguard,
)
from privacy.deletion.erasure import certificates_to_review
from privacy.deletion.retention import RELATIONSHIP_RULES, RULE_KINDS
from privacy.models import Processor, RetentionRule
from privacy.requests.digest import requests_needing_attention

# Report field -> what the command prints for it; failures first, then warnings.
FAILURES = {
    "undeclared_models": "Models holding personal data not in the registry",
    "overdue_requests": "Open data-subject requests past their deadline",
    "rules_without_category": "Active retention rules without a data category",
    "processors_without_safeguard": "Processors outside the EU without a transfer safeguard",
    "activities_without_safeguard": "Processing activities outside the EU without a safeguard",
    "contacts_under_16": f"Contacts younger than {MINIMUM_AGE} by their birth date",
    "relationships_without_retention": "Kinds of contact no active retention rule expires",
    "controller_settings_missing": "Controller settings left blank (art. 13(1)(a)-(b))",
}
WARNINGS = {
    "contacts_without_provenance": "Contacts without provenance",
    "indirect_contacts_not_informed": "Contacts from indirect sources not yet informed (art. 14)",
    "certificates_to_review": "Erasure certificates whose scan found leftovers, to review",
    "processors_without_agreement": "Processors without a signed agreement date (art. 28(3))",
}


@dataclass(frozen=True)
class PrivacyReport:
    """Findings of one privacy check; counts, model names and organisations' names only."""

    undeclared_models: dict[str, list[str]]
    contacts_without_provenance: int
    indirect_contacts_not_informed: int
    overdue_requests: int
    rules_without_category: list[str]
    processors_without_safeguard: list[str]
    activities_without_safeguard: list[str]
    contacts_under_16: int
    relationships_without_retention: list[str]
    controller_settings_missing: list[str]
    processors_without_agreement: list[str]
    certificates_to_review: int

    @property
    def failures(self) -> list[str]:
        """Return the names of the findings that make the check fail."""
        return [name for name in FAILURES if getattr(self, name)]

    @property
    def warnings(self) -> list[str]:
        """Return the names of the findings to act on that do not make the check fail."""
        return [name for name in WARNINGS if getattr(self, name)]

    @property
    def ok(self) -> bool:
        """Say whether the check passes: no failure (warnings may remain)."""
        return not self.failures

    def as_dict(self) -> dict:
        """Return the report as JSON-ready data."""
        return {**asdict(self), "ok": self.ok, "failures": self.failures, "warnings": self.warnings}


def birth_date_cutoff(today: date) -> date:
    """Return the latest birth date of someone who is at least MINIMUM_AGE years old today."""
    return add_months(today, -12 * MINIMUM_AGE)


def rules_without_category() -> list[str]:
    """Return the kinds of active retention rules whose rows have no registry data category."""
    missing = []
    for kind in RetentionRule.objects.filter(is_active=True).values_list("kind", flat=True):
        known = RULE_KINDS.get(kind)
        if known is None:
            missing.append(kind)
            continue
        try:
            model = apps.get_model(known.model)
        except LookupError:
            missing.append(kind)
            continue
        if not known.category and registry.get(model) is None:
            missing.append(kind)
    return missing


def relationships_without_retention() -> list[str]:
    """Return the kinds of contact (relationships) that no active retention rule ever expires."""
    active = set(RetentionRule.objects.filter(is_active=True).values_list("kind", flat=True))
    return [
        relationship
        for relationship in Contact.Relationship.values
        if RELATIONSHIP_RULES.get(relationship) not in active
    ]


def privacy_report() -> PrivacyReport:
    """Run every check and return the findings."""
    provenance = ContactSource.objects.filter(contact=OuterRef("pk"))
    not_informed = ContactSource.objects.filter(
        contact=OuterRef("pk"), source__kind__in=Source.INDIRECT_KINDS, informed_at__isnull=True
    )
    overdue = (
        requests_needing_attention()
        .annotate(deadline_at=Coalesce("extended_due_at", "due_at"))
        .filter(deadline_at__lt=timezone.now())
    )
    cutoff = birth_date_cutoff(timezone.localdate())
    return PrivacyReport(
        undeclared_models=registry.undeclared_models(),
        contacts_without_provenance=Contact.objects.filter(~Exists(provenance)).count(),
        indirect_contacts_not_informed=Contact.objects.filter(Exists(not_informed)).count(),
        overdue_requests=overdue.count(),
        rules_without_category=rules_without_category(),
        processors_without_safeguard=list(
            processors_without_safeguard().order_by("name").values_list("name", flat=True)
        ),
        activities_without_safeguard=list(
            activities_without_safeguard().order_by("name").values_list("name", flat=True)
        ),
        contacts_under_16=Contact.objects.filter(birth_date__gt=cutoff).count(),
        relationships_without_retention=relationships_without_retention(),
        # The embedded default is a trial box: the operator fills these in for production.
        controller_settings_missing=[] if settings.EMBEDDED else missing_controller_settings(),
        processors_without_agreement=list(
            Processor.objects.filter(agreement_signed_on__isnull=True)
            .order_by("name")
            .values_list("name", flat=True)
        ),
        certificates_to_review=certificates_to_review().count(),
    )
