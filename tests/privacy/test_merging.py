"""Merging duplicates: every row moves, the ledger keeps its proof, refusals change nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns.segments import SegmentCriteria, count_matching, matching_contacts
from core.hashing import stored_email_hash
from core.models import AuditEvent, OutboundEvent
from crm.duplicates import duplicate_candidates, live_contacts, with_possible_duplicates
from crm.invoices import record_invoice
from crm.models import Contact, ContactList, Interaction, Suppression, Tag
from crm.suppression import may_contact, suppress
from privacy.consent.ledger import consent_states, rebuild_consent_states
from privacy.deletion.erasure import erase_subject
from privacy.merging import MERGEABLE_FIELDS, merge_contacts
from privacy.models import ConsentEvent, ConsentState
from privacy.staff.roles import ADMINISTRATOR, ROLES
from tests.campaigns.factories import CampaignFactory, MessageEventFactory, MessageFactory
from tests.crm.factories import CompanyFactory, ContactSourceFactory, InteractionFactory
from tests.privacy.factories import ContactFactory, grant, withdraw
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    """Return a factory of staff users in a role."""
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() < len(ROLES) + 1:
        run_roles_migration()

    def make(role: str):
        slug = role.lower().replace(" ", "-")
        user = django_user_model.objects.create_user(
            username=slug, email=f"{slug}@example.org", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def marketer(staff):
    return staff("Marketing")


def everything() -> dict[str, int]:
    return {
        "contacts": live_contacts().count(),
        "events": ConsentEvent.objects.count(),
        "interactions": Interaction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "suppressions": Suppression.objects.count(),
    }


def test_duplicates_are_found_by_address_tag_phone_and_name_at_company():
    company = CompanyFactory()
    anna = ContactFactory(email="anna.devries@example.org", phone="+31201234567", first_name="Anna")
    tagged = ContactFactory(email="anna.devries+news@example.org")
    same_phone = ContactFactory(phone="+31201234567")
    named = ContactFactory(first_name="Piet", last_name="Bakker", company=company)
    twin = ContactFactory(first_name="piet", last_name="BAKKER", company=company)
    ContactFactory(first_name="Piet", last_name="Bakker")  # another company: someone else

    found = {c.contact.pk: c.reasons for c in duplicate_candidates(anna)}
    assert found == {
        tagged.pk: ("same e-mail address",),
        same_phone.pk: ("same phone number",),
    }
    assert [c.contact for c in duplicate_candidates(named)] == [twin]
    listed = set(with_possible_duplicates(Contact.objects.all()))
    assert listed == {anna, same_phone, named, twin}


def test_a_merge_moves_every_row_and_keeps_the_picked_fields(marketer, newsletter):
    keep = ContactFactory(first_name="Anna", phone="")
    duplicate = ContactFactory(first_name="Anne", phone="+31201234567", job_title="Buyer")
    ContactSourceFactory(contact=duplicate)
    InteractionFactory(contact=duplicate)
    grant(duplicate, newsletter)
    message = MessageFactory(contact=duplicate, tracking_consent=False)
    MessageEventFactory(message=message)

    result = merge_contacts(
        keep=keep, duplicate=duplicate, take=("phone",), actor=marketer, channel="admin"
    )

    keep.refresh_from_db()
    duplicate.refresh_from_db()
    assert (keep.first_name, keep.phone) == ("Anna", "+31201234567")
    assert keep.job_title != "Buyer"
    assert keep.provenance.count() == 1
    assert keep.interactions.count() == 1
    assert keep.consent_events.count() == 1
    assert consent_states(keep) == {newsletter.code: "grant"}
    assert keep.messages.get().events.count() == 1
    assert result.moved["campaigns.message"] == 1
    # The duplicate keeps its id and where it went, nothing personal.
    assert duplicate.merged_into == keep
    assert (duplicate.email, duplicate.first_name, duplicate.phone) == (None, "", "")
    assert not duplicate.consent_events.exists()
    audits = AuditEvent.objects.filter(details__merged=duplicate.pk, details__into=keep.pk)
    assert {a.object_id for a in audits} == {str(keep.pk), str(duplicate.pk)}


def test_the_merged_events_keep_their_proof(marketer, newsletter):
    keep, duplicate = ContactFactory(), ContactFactory()
    original = grant(duplicate, newsletter)
    proof = ConsentEvent.objects.filter(pk=original.pk).values(
        "wording", "notice_version", "channel", "occurred_at", "user_agent", "action"
    )
    before = list(proof)

    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert list(proof) == before
    assert ConsentEvent.objects.get(pk=original.pk).contact == keep


def test_a_withdrawal_on_either_record_wins_over_a_later_grant(marketer, newsletter, offers):
    keep, duplicate = ContactFactory(), ContactFactory()
    then = timezone.now() - timedelta(days=30)
    grant(duplicate, newsletter, occurred_at=then - timedelta(days=1))
    withdrawal = withdraw(duplicate, newsletter, occurred_at=then)
    grant(keep, newsletter)  # later than the duplicate's withdrawal
    grant(keep, offers)

    result = merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert result.withdrawals_carried == 1
    assert consent_states(keep) == {newsletter.code: "withdraw", offers.code: "grant"}
    carried = keep.consent_events.get(channel=ConsentEvent.Channel.MERGE)
    assert carried.wording == withdrawal.wording
    assert f"#{withdrawal.pk}" in carried.evidence
    # The ledger alone gives the same answer.
    ConsentState.objects.all().delete()
    rebuild_consent_states()
    assert consent_states(keep) == {newsletter.code: "withdraw", offers.code: "grant"}


def test_the_kept_records_withdrawal_wins_over_the_duplicates_later_grant(marketer, newsletter):
    keep, duplicate = ContactFactory(), ContactFactory()
    grant(keep, newsletter, occurred_at=timezone.now() - timedelta(days=2))
    withdraw(keep, newsletter, occurred_at=timezone.now() - timedelta(days=1))
    grant(duplicate, newsletter)

    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert consent_states(keep) == {newsletter.code: "withdraw"}


def test_both_suppressions_stay_and_cover_the_address_kept(marketer):
    keep = ContactFactory(email="piet@example.org")
    duplicate = ContactFactory(email="p.bakker@example.net")
    suppress(email="p.bakker@example.net", reason=Suppression.Reason.UNSUBSCRIBE)

    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert not may_contact(email="p.bakker@example.net")
    assert not may_contact(email="piet@example.org")
    assert Suppression.objects.filter(email_hash=stored_email_hash("p.bakker@example.net"))


def test_the_same_campaign_sent_to_both_keeps_one_message_with_all_events(marketer):
    keep, duplicate = ContactFactory(), ContactFactory()
    campaign = CampaignFactory(sent=True)
    kept_message = MessageFactory(campaign=campaign, contact=keep)
    other = MessageFactory(campaign=campaign, contact=duplicate)
    MessageEventFactory(message=kept_message)
    MessageEventFactory(message=other)
    MessageEventFactory(message=other)

    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert keep.messages.get() == kept_message
    assert kept_message.events.count() == 3
    # The other message stays, unlinked, so the campaign's sent count stays true.
    other.refresh_from_db()
    assert other.contact is None


def test_taking_the_duplicates_address_frees_it_first(marketer):
    keep = ContactFactory(email="old@example.org")
    duplicate = ContactFactory(email="new@example.org")

    merge_contacts(keep=keep, duplicate=duplicate, take=("email",), actor=marketer, channel="api")

    keep.refresh_from_db()
    assert keep.email == "new@example.org"
    assert keep.email_hash == stored_email_hash("new@example.org")


@pytest.mark.parametrize("case", ["itself", "already merged", "erased"])
def test_impossible_merges_are_refused_with_the_reason(marketer, case):
    keep, duplicate = ContactFactory(), ContactFactory()
    if case == "itself":
        duplicate = keep
    elif case == "already merged":
        merge_contacts(keep=ContactFactory(), duplicate=duplicate, actor=marketer, channel="admin")
        duplicate.refresh_from_db()
    else:
        erase_subject(contact=duplicate, requested_by=None, channel="command")
        duplicate = Contact(pk=duplicate.pk, anonymised_at=timezone.now())
    before = everything()

    with pytest.raises(ValidationError) as refused:
        merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    expected = {
        "itself": "cannot be merged with itself",
        "already merged": "was already merged into",
        "erased": "was erased",
    }[case]
    assert expected in " ".join(refused.value.messages)
    assert everything() == before


@pytest.mark.parametrize("frozen", ["restricted", "legal hold"])
def test_a_frozen_record_needs_an_officers_written_decision(staff, marketer, frozen):
    keep, duplicate = ContactFactory(), ContactFactory()
    if frozen == "restricted":
        Contact.objects.filter(pk=duplicate.pk).update(is_restricted=True)
    else:
        record_invoice(
            contact=duplicate,
            number="F-2026-001",
            issued_on=date.today(),
            due_on=date.today(),
            amount=Decimal("120.00"),
            currency="EUR",
            actor=None,
            channel="api",
        )
    duplicate.refresh_from_db()
    before = everything()
    officer = staff("Privacy officer")

    for actor, decision in ((marketer, "Same person, checked."), (officer, "  ")):
        with pytest.raises(ValidationError) as refused:
            merge_contacts(
                keep=keep,
                duplicate=duplicate,
                actor=actor,
                channel="admin",
                officer_decision=decision,
            )
        assert "only a privacy officer may merge it" in refused.value.messages[0]
        assert everything() == before

    merge_contacts(
        keep=keep,
        duplicate=duplicate,
        actor=officer,
        channel="admin",
        officer_decision="Request #12: the person asked us to join their two records.",
    )
    keep.refresh_from_db()
    assert keep.is_restricted is (frozen == "restricted")
    if frozen == "legal hold":
        assert keep.invoices.count() == 1
    audit = AuditEvent.objects.get(object_id=str(keep.pk), details__into=keep.pk)
    assert audit.reason.startswith("Request #12")


def test_erasing_the_kept_record_erases_the_merged_one_too(marketer):
    keep, duplicate = ContactFactory(), ContactFactory()
    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    erase_subject(contact=keep, requested_by=None, channel="command")

    assert not Contact.objects.filter(pk__in=[keep.pk, duplicate.pk]).exists()


def test_a_marketer_merges_on_the_merge_screen_picking_fields(staff, client):
    keep = ContactFactory(first_name="Anna", job_title="")
    duplicate = ContactFactory(first_name="Anne", job_title="Buyer")
    client.force_login(staff("Marketing"))
    url = reverse("admin:crm_contact_merge", args=[keep.pk, duplicate.pk])

    screen = client.get(url)
    picks = {f"pick_{name}": "keep" for name in MERGEABLE_FIELDS}
    done = client.post(url, {**picks, "pick_job_title": "duplicate"}, follow=True)

    assert "Buyer" in screen.content.decode() and "Anne" in screen.content.decode()
    keep.refresh_from_db()
    assert (keep.first_name, keep.job_title) == ("Anna", "Buyer")
    assert f"Contact #{duplicate.pk} was merged into this record" in done.content.decode()
    # The merged record's old page leads to the kept one.
    old = client.get(reverse("admin:crm_contact_change", args=[duplicate.pk]))
    assert old.url == reverse("admin:crm_contact_change", args=[keep.pk])


def test_support_may_not_merge(staff, client):
    keep, duplicate = ContactFactory(), ContactFactory()
    client.force_login(staff("Support"))

    screen = client.get(reverse("admin:crm_contact_merge", args=[keep.pk, duplicate.pk]))
    api = client.post(
        reverse("api:contact-merge", args=[keep.pk]),
        {"duplicate": duplicate.pk},
        content_type="application/json",
    )

    assert screen.status_code == 403 and api.status_code == 403
    assert not Contact.objects.filter(merged_into__isnull=False).exists()


def test_the_api_merges_and_refuses_with_the_reason(staff, client):
    keep, duplicate = ContactFactory(), ContactFactory(job_title="Buyer")
    client.force_login(staff("Marketing"))
    url = reverse("api:contact-merge", args=[keep.pk])

    itself = client.post(url, {"duplicate": keep.pk}, content_type="application/json")
    merged = client.post(
        url, {"duplicate": duplicate.pk, "take": ["job_title"]}, content_type="application/json"
    )
    again = client.post(url, {"duplicate": duplicate.pk}, content_type="application/json")

    assert itself.status_code == 400 and "itself" in str(itself.json())
    assert merged.status_code == 200
    assert merged.json()["merged"] == duplicate.pk
    keep.refresh_from_db()
    assert keep.job_title == "Buyer"
    assert again.status_code == 400 and "already merged" in str(again.json())


def test_the_api_list_shows_the_record_kept_only(staff, client):
    keep, duplicate = ContactFactory(), ContactFactory()
    merge_contacts(keep=keep, duplicate=duplicate, actor=staff("Marketing"), channel="api")
    client.force_login(staff("Support"))

    listed = client.get(reverse("api:contact-list")).json()["results"]

    assert [row["id"] for row in listed] == [keep.pk]


def test_the_api_lists_possible_duplicates_with_their_reasons(staff, client):
    anna = ContactFactory(email="anna@example.org", phone="+31201234567")
    tagged = ContactFactory(email="anna+fair@example.org", phone="+31201234567")
    ContactFactory(email="someone@example.net")
    client.force_login(staff("Marketing"))

    found = client.get(reverse("api:contact-duplicates", args=[anna.pk])).json()

    assert found == [
        {
            "id": tagged.pk,
            "name": str(tagged),
            "reasons": ["same e-mail address", "same phone number"],
        }
    ]


def test_tags_and_static_lists_are_joined(marketer):
    keep, duplicate = ContactFactory(), ContactFactory()
    fair = ContactList.objects.create(name="Fair")
    fair.contacts.add(duplicate)
    duplicate.tags.add(Tag.objects.create(name="vip"))

    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert list(fair.contacts.all()) == [keep]
    assert list(keep.tags.values_list("name", flat=True)) == ["vip"]
    assert not duplicate.tags.exists()


def test_a_merge_is_announced_to_integrations_with_both_ids(marketer):
    """Receivers of outbound webhooks hear which record went into which, and no personal data."""
    keep = Contact.objects.create(email="ana.keep@example.org", first_name="Ana")
    duplicate = Contact.objects.create(email="ana.dup@example.org", first_name="Anna")
    merge_contacts(
        keep=keep, duplicate=duplicate, take=("first_name",), actor=marketer, channel="admin"
    )

    event = OutboundEvent.objects.get(kind="contact.merged")
    assert event.contact_id == duplicate.pk
    assert event.data["into"] == keep.pk
    assert "ana" not in str(event.data).lower()


def test_a_merged_record_is_not_counted_twice_in_a_segment(marketer):
    keep = ContactFactory(country="NL")
    duplicate = ContactFactory(country="NL")
    criteria = SegmentCriteria(countries=("NL",))
    assert count_matching(criteria).value == 2

    merge_contacts(keep=keep, duplicate=duplicate, actor=marketer, channel="admin")

    assert set(matching_contacts(criteria).values_list("pk", flat=True)) == {keep.pk}
