"""The privacy check: what an operator or privacy officer must fix, as counts, never as people."""

from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef

from crm.models import Contact, ContactSource, Source
from privacy.registry import registry


@dataclass(frozen=True)
class PrivacyReport:
    """Findings of one privacy check; counts and model names only."""

    undeclared_models: dict[str, list[str]]
    contacts_without_provenance: int
    indirect_contacts_not_informed: int

    @property
    def ok(self) -> bool:
        """Say whether nothing needs fixing."""
        return not (
            self.undeclared_models
            or self.contacts_without_provenance
            or self.indirect_contacts_not_informed
        )

    def as_dict(self) -> dict:
        """Return the report as JSON-ready data."""
        return {**asdict(self), "ok": self.ok}


def privacy_report() -> PrivacyReport:
    """Check registry completeness, provenance (rule 3) and art. 14 information of contacts."""
    provenance = ContactSource.objects.filter(contact=OuterRef("pk"))
    not_informed = ContactSource.objects.filter(
        contact=OuterRef("pk"), source__kind__in=Source.INDIRECT_KINDS, informed_at__isnull=True
    )
    return PrivacyReport(
        undeclared_models=registry.undeclared_models(),
        contacts_without_provenance=Contact.objects.filter(~Exists(provenance)).count(),
        indirect_contacts_not_informed=Contact.objects.filter(Exists(not_informed)).count(),
    )
