"""Who a campaign may be sent to, computed in the database (GDPR art. 6, 18 and 21; DESIGN rule 4).

Audience = the segment's contacts, less those
  - with no address, or erased (anonymised);
  - whose processing is restricted (art. 18);
  - whose address is no longer valid (hard bounce, spam complaint);
  - not lawful for the campaign's purpose: a consent purpose needs consent granted now; any other
    basis (legitimate interest) holds unless the person refused or withdrew (an objection under
    art. 21 is recorded in the ledger as a withdrawal);
  - suppressed: an active suppression of the address's keyed hash, global or of the sending
    client (suppressions and contacts hold the same HMAC, so this is a join, never a hash per row).

Each excluded person is counted under the first of these reasons that applies, in that order, so
the counts add up to the segment. Every condition is an uncorrelated subquery the planner runs once
(hashed), which keeps a million-contact audience to one pass over the contacts.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from campaigns.models import Campaign
from campaigns.segments import segment_contacts
from crm.models import Client, Contact
from privacy.models import ConsentEvent, ConsentState, Purpose, Suppression

REASONS = (
    ("no_address", "No e-mail address, or erased"),
    ("restricted", "Processing restricted (art. 18)"),
    ("undeliverable", "Address bounced or marked our mail as spam"),
    ("not_lawful", "No consent for the purpose, or objected to it"),
    ("suppressed", "Unsubscribed or suppressed (globally or for this sender)"),
)


@dataclass(frozen=True)
class AudienceBreakdown:
    """The segment's size, how many were excluded for each reason, and who remains."""

    segment: int
    excluded: dict[str, int]
    audience: int

    def rows(self) -> list[tuple[str, str, int]]:
        """Return (reason code, label, count) in the order reasons are applied."""
        return [(code, label, self.excluded[code]) for code, label in REASONS]


def lawful_condition(purpose: Purpose) -> Q:
    """Return the condition on contacts under which processing for the purpose is lawful now."""
    if purpose.needs_consent:
        granted = ConsentState.objects.filter(purpose=purpose, status=ConsentEvent.Action.GRANT)
        return Q(pk__in=granted.values("contact_id"))
    declined = ConsentState.objects.filter(
        purpose=purpose, status__in=[ConsentEvent.Action.REFUSE, ConsentEvent.Action.WITHDRAW]
    )
    return ~Q(pk__in=declined.values("contact_id"))


def suppressed_condition(client: Client | None) -> Q:
    """Return the condition on contacts whose address is suppressed for the sender."""
    scope = Q(client__isnull=True)
    if client is not None:
        scope |= Q(client=client)
    active = Suppression.objects.filter(scope, lifted_at__isnull=True)
    return Q(email_hash__in=active.values("email_hash"))


def exclusion_conditions(*, purpose: Purpose, client: Client | None) -> dict[str, Q]:
    """Return the condition of each exclusion reason, in the order they are applied."""
    return {
        "no_address": Q(email__isnull=True) | Q(email="") | Q(anonymised_at__isnull=False),
        "restricted": Q(is_restricted=True),
        "undeliverable": ~Q(email_status=Contact.EmailStatus.VALID),
        "not_lawful": ~lawful_condition(purpose),
        "suppressed": suppressed_condition(client),
    }


def eligible(contacts: QuerySet, *, purpose: Purpose, client: Client | None) -> QuerySet:
    """Return those of the contacts no exclusion applies to."""
    for condition in exclusion_conditions(purpose=purpose, client=client).values():
        contacts = contacts.exclude(condition)
    return contacts


def campaign_audience(campaign: Campaign) -> QuerySet:
    """Return the contacts the campaign may be sent to now."""
    return eligible(
        segment_contacts(campaign.segment), purpose=campaign.purpose, client=campaign.client
    )


def audience_breakdown(campaign: Campaign) -> AudienceBreakdown:
    """Count the segment, each exclusion (first reason that applies) and the audience at once."""
    conditions = exclusion_conditions(purpose=campaign.purpose, client=campaign.client)
    aggregates = {"segment": Count("pk")}
    earlier = Q()
    for code, condition in conditions.items():
        aggregates[code] = Count("pk", filter=earlier & condition)
        earlier &= ~condition
    aggregates["audience"] = Count("pk", filter=earlier)
    counts = segment_contacts(campaign.segment).aggregate(**aggregates)
    return AudienceBreakdown(
        segment=counts["segment"],
        excluded={code: counts[code] for code in conditions},
        audience=counts["audience"],
    )
