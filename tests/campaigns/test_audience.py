import pytest
from django.utils import timezone

from campaigns.audience import audience_breakdown, campaign_audience, requirements
from campaigns.segments import segment_contacts
from crm.models import Contact
from crm.suppression import suppress
from privacy.models import ConsentEvent, Purpose
from tests.campaigns.factories import CampaignFactory
from tests.crm.factories import ClientFactory, ContactFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsletter():
    NoticeVersionFactory()
    return PurposeFactory(legal_basis=Purpose.LegalBasis.CONSENT)


def _consenting(purpose, **fields):
    contact = ContactFactory(**fields)
    grant(contact, purpose)
    return contact


def test_a_consent_purpose_reaches_only_people_who_granted_it(newsletter):
    granted = _consenting(newsletter)
    withdrawn = _consenting(newsletter)
    withdraw(withdrawn, newsletter)
    ContactFactory()  # never asked
    campaign = CampaignFactory(purpose=newsletter)
    assert list(campaign_audience(campaign)) == [granted]
    assert audience_breakdown(campaign).excluded["not_lawful"] == 2


def test_legitimate_interest_reaches_everyone_who_did_not_object():
    NoticeVersionFactory()
    interest = PurposeFactory(legal_basis=Purpose.LegalBasis.LEGITIMATE_INTEREST, consent_text="")
    customer = ContactFactory()
    objected = ContactFactory()
    # An objection (art. 21) is recorded as a withdrawal in the ledger.
    withdraw(objected, interest, channel=ConsentEvent.Channel.SUBJECT_REQUEST)
    campaign = CampaignFactory(purpose=interest)
    assert list(campaign_audience(campaign)) == [customer]


@pytest.mark.parametrize(
    ("reason", "change"),
    [
        ("no_address", lambda c: Contact.objects.filter(pk=c.pk).update(email=None)),
        (
            "no_address",
            lambda c: Contact.objects.filter(pk=c.pk).update(anonymised_at=timezone.now()),
        ),
        ("restricted", lambda c: Contact.objects.filter(pk=c.pk).update(is_restricted=True)),
        (
            "undeliverable",
            lambda c: Contact.objects.filter(pk=c.pk).update(email_status="bounced"),
        ),
        (
            "undeliverable",
            lambda c: Contact.objects.filter(pk=c.pk).update(email_status="complained"),
        ),
        ("suppressed", lambda c: suppress(email=c.email, reason="unsubscribe")),
    ],
)
def test_each_exclusion_removes_the_person_and_is_counted_under_its_reason(
    newsletter, reason, change
):
    kept = _consenting(newsletter)
    excluded = _consenting(newsletter)
    change(excluded)
    campaign = CampaignFactory(purpose=newsletter)

    assert list(campaign_audience(campaign)) == [kept]
    breakdown = audience_breakdown(campaign)
    assert breakdown.segment == 2
    assert breakdown.audience == 1
    assert breakdown.excluded == {code: (1 if code == reason else 0) for code in breakdown.excluded}


def test_a_clients_suppression_excludes_only_from_that_clients_campaigns(newsletter):
    north, south = ClientFactory(), ClientFactory()
    person = _consenting(newsletter)
    suppress(email=person.email, reason="complaint", client=north)

    assert list(campaign_audience(CampaignFactory(purpose=newsletter, client=north))) == []
    assert list(campaign_audience(CampaignFactory(purpose=newsletter, client=south))) == [person]
    assert list(campaign_audience(CampaignFactory(purpose=newsletter))) == [person]


def test_a_lifted_suppression_no_longer_excludes(newsletter):
    from crm.suppression import lift_global_suppression

    person = _consenting(newsletter)
    suppress(email=person.email, reason="unsubscribe")
    lift_global_suppression(email=person.email, why="Confirmed a new subscription.")
    assert list(campaign_audience(CampaignFactory(purpose=newsletter))) == [person]


def test_a_person_with_several_reasons_is_counted_once_under_the_first(newsletter):
    person = ContactFactory(is_restricted=True, email_status="bounced")  # and no consent
    suppress(email=person.email, reason="objection")
    breakdown = audience_breakdown(CampaignFactory(purpose=newsletter))
    assert breakdown.excluded == {
        "no_address": 0,
        "restricted": 1,
        "undeliverable": 0,
        "not_lawful": 0,
        "suppressed": 0,
    }
    assert breakdown.audience == 0


def test_the_segment_is_applied_before_the_exclusions(newsletter):
    dutch = _consenting(newsletter, country="NL")
    _consenting(newsletter, country="DE")
    campaign = CampaignFactory(purpose=newsletter, segment__countries=["NL"])
    breakdown = audience_breakdown(campaign)
    assert (breakdown.segment, breakdown.audience) == (1, 1)
    assert list(campaign_audience(campaign)) == [dutch]


def _counted_reason_by_reason(campaign):
    """The breakdown as it was computed before: one count per reason, each after the earlier."""
    conditions = requirements(purpose=campaign.purpose, client=campaign.client)
    contacts = segment_contacts(campaign.segment)
    excluded, earlier = {}, contacts
    for code, condition in conditions.items():
        excluded[code] = earlier.exclude(pk__in=earlier.filter(condition).values("pk")).count()
        earlier = earlier.filter(condition)
    return contacts.count(), excluded, earlier.count()


@pytest.mark.parametrize(
    "legal_basis", [Purpose.LegalBasis.CONSENT, Purpose.LegalBasis.LEGITIMATE_INTEREST]
)
def test_the_one_pass_breakdown_gives_the_counts_of_one_query_per_reason(legal_basis):
    NoticeVersionFactory()
    consent = legal_basis == Purpose.LegalBasis.CONSENT
    purpose = PurposeFactory(legal_basis=legal_basis, **({} if consent else {"consent_text": ""}))
    client = ClientFactory()
    people = [ContactFactory() for _ in range(14)]
    for contact in people[:9] if consent else ():
        grant(contact, purpose)
    withdraw(people[9], purpose)
    Contact.objects.filter(pk=people[0].pk).update(email=None, is_restricted=True)
    Contact.objects.filter(pk=people[1].pk).update(is_restricted=True, email_status="bounced")
    Contact.objects.filter(pk=people[2].pk).update(email_status="bounced")
    Contact.objects.filter(pk=people[3].pk).update(anonymised_at=timezone.now())
    suppress(email=people[4].email, reason="unsubscribe")
    suppress(email=people[5].email, reason="unsubscribe", client=client)
    suppress(email=people[10].email, reason="unsubscribe")
    Contact.objects.filter(pk=people[11].pk).update(email_status="complained")

    for campaign in (
        CampaignFactory(purpose=purpose),
        CampaignFactory(purpose=purpose, client=client),
    ):
        segment, excluded, audience = _counted_reason_by_reason(campaign)
        breakdown = audience_breakdown(campaign)
        assert (breakdown.segment, breakdown.excluded, breakdown.audience) == (
            segment,
            excluded,
            audience,
        )
        assert breakdown.audience == campaign_audience(campaign).count()
        assert sum(breakdown.excluded.values()) + breakdown.audience == breakdown.segment
