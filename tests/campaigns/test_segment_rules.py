from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Message, MessageEvent
from campaigns.segment_rules import check_rules, describe_rules
from campaigns.segments import SegmentCriteria, matching_contacts, segment_contacts
from campaigns.sending import starting
from crm.models import ContactList, Source, Tag
from privacy.consent.ledger import record_consent
from privacy.models import ConsentEvent
from tests.campaigns.factories import (
    CampaignFactory,
    MessageEventFactory,
    MessageFactory,
    SegmentFactory,
)
from tests.crm.factories import CompanyFactory, ContactFactory, ContactSourceFactory, SourceFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant

pytestmark = pytest.mark.django_db


def matched(rules: dict) -> set[int]:
    check_rules(rules)
    return set(matching_contacts(SegmentCriteria(rules=rules)).values_list("pk", flat=True))


def test_an_or_group_nested_in_an_and_group_matches_either_branch():
    software = CompanyFactory(industry="Software")
    retail = CompanyFactory(industry="Retail")
    dutch_software = ContactFactory(country="NL", company=software)
    belgian_retail = ContactFactory(country="BE", company=retail, language="nl")
    ContactFactory(country="DE", company=software)
    ContactFactory(country="BE", company=retail, language="en")
    rules = {
        "match": "all",
        "rules": [
            {"field": "country", "op": "in", "value": ["NL", "BE"]},
            {
                "match": "any",
                "rules": [
                    {"field": "company.industry", "op": "equals", "value": "software"},
                    {"field": "language", "op": "in", "value": ["nl"]},
                ],
            },
        ],
    }
    assert matched(rules) == {dutch_software.pk, belgian_retail.pk}


def test_tags_all_of_none_of_and_a_person_with_two_tags_is_one_row():
    vip, fair = Tag.objects.create(name="VIP"), Tag.objects.create(name="Fair")
    both, only_vip, untagged = ContactFactory(), ContactFactory(), ContactFactory()
    both.tags.add(vip, fair)
    only_vip.tags.add(vip)
    any_tag = {
        "match": "all",
        "rules": [{"field": "tags", "op": "any_of", "value": [vip.pk, fair.pk]}],
    }
    assert sorted(
        matching_contacts(SegmentCriteria(rules=any_tag)).values_list("pk", flat=True)
    ) == (sorted([both.pk, only_vip.pk]))
    assert matched(
        {"match": "all", "rules": [{"field": "tags", "op": "all_of", "value": [vip.pk, fair.pk]}]}
    ) == {both.pk}
    assert matched(
        {"match": "all", "rules": [{"field": "tags", "op": "none_of", "value": [vip.pk]}]}
    ) == {untagged.pk}


def test_provenance_by_kind_client_and_source():
    directory = SourceFactory(kind=Source.Kind.BUSINESS_DIRECTORY, name="Kompass")
    form = SourceFactory(kind=Source.Kind.WEB_FORM, name="Newsletter form")
    found, subscribed = ContactFactory(), ContactFactory()
    ContactSourceFactory(contact=found, source=directory)
    ContactSourceFactory(contact=subscribed, source=form)
    kind = {
        "match": "all",
        "rules": [{"field": "source.kind", "op": "any_of", "value": ["business_directory"]}],
    }
    assert matched(kind) == {found.pk}
    not_form = {"match": "all", "rules": [{"field": "source", "op": "none_of", "value": [form.pk]}]}
    assert subscribed.pk not in matched(not_form)
    assert found.pk in matched(not_form)


def test_consent_state_per_purpose_including_never_asked():
    letter = PurposeFactory(code="letter")
    granted, withdrawn, never = ContactFactory(), ContactFactory(), ContactFactory()
    for contact, action in ((granted, "grant"), (withdrawn, "grant"), (withdrawn, "withdraw")):
        record_consent(
            contact=contact,
            purpose=letter,
            action=action,
            wording=letter.consent_text,
            channel=ConsentEvent.Channel.STAFF_PHONE,
            evidence="Phone call with the person, noted by the account manager.",
        )

    def rule(op, value):
        return {"match": "all", "rules": [{"field": "consent.letter", "op": op, "value": value}]}

    assert matched(rule("is", "granted")) == {granted.pk}
    assert matched(rule("is", "withdrawn")) == {withdrawn.pk}
    assert matched(rule("is", "none")) == {never.pk}
    assert matched(rule("is_not", "granted")) == {withdrawn.pk, never.pk}


def test_engagement_by_campaign_and_by_recent_days():
    spring, autumn = CampaignFactory(sent=True), CampaignFactory(sent=True)
    opener, old_clicker, silent = ContactFactory(), ContactFactory(), ContactFactory()
    MessageEventFactory(message=MessageFactory(campaign=spring, contact=opener))
    MessageEventFactory(
        message=MessageFactory(campaign=autumn, contact=old_clicker),
        kind=MessageEvent.Kind.CLICKED,
        occurred_at=timezone.now() - timedelta(days=90),
    )
    MessageFactory(campaign=spring, contact=silent)

    def rule(field, op, value=None):
        return {"match": "all", "rules": [{"field": field, "op": op, "value": value}]}

    assert matched(rule("opened", "in_campaigns", [spring.pk])) == {opener.pk}
    assert matched(rule("clicked", "ever")) == {old_clicker.pk}
    assert matched(rule("clicked", "within_days", 30)) == set()
    assert matched(rule("opened", "never")) == {old_clicker.pk, silent.pk}


def test_static_lists_any_all_and_none_of():
    fair = ContactList.objects.create(name="Spring fair visitors")
    press = ContactList.objects.create(name="Press")
    both, only_fair, neither = ContactFactory(), ContactFactory(), ContactFactory()
    fair.contacts.add(both, only_fair)
    press.contacts.add(both)

    def rule(op, lists):
        return {"match": "all", "rules": [{"field": "lists", "op": op, "value": lists}]}

    assert matched(rule("any_of", [fair.pk])) == {both.pk, only_fair.pk}
    assert matched(rule("all_of", [fair.pk, press.pk])) == {both.pk}
    assert matched(rule("none_of", [fair.pk])) == {neither.pk}
    with pytest.raises(ValidationError, match="no contact list with id"):
        check_rules(rule("any_of", [press.pk + 100]))


def test_a_machine_open_is_no_engagement():
    """An open fetched by a privacy proxy on delivery does not make the person an opener."""
    campaign = CampaignFactory(sent=True)
    person, proxied = ContactFactory(), ContactFactory()
    MessageEventFactory(
        message=MessageFactory(campaign=campaign, contact=person),
        origin=MessageEvent.Origin.HUMAN,
    )
    MessageEventFactory(
        message=MessageFactory(campaign=campaign, contact=proxied),
        origin=MessageEvent.Origin.MACHINE,
    )

    rule = {"match": "all", "rules": [{"field": "opened", "op": "ever", "value": None}]}
    assert matched(rule) == {person.pk}


def test_dates_and_empty_text():
    recent = ContactFactory(last_activity_at=timezone.now() - timedelta(days=3), job_title="")
    old = ContactFactory(last_activity_at=timezone.now() - timedelta(days=300), job_title="CFO")
    never = ContactFactory(last_activity_at=None, job_title="CTO")
    rule = {
        "match": "all",
        "rules": [{"field": "last_activity_at", "op": "not_within_days", "value": 30}],
    }
    assert matched(rule) == {old.pk, never.pk}
    empty = {"match": "any", "rules": [{"field": "job_title", "op": "is_empty"}]}
    assert matched(empty) == {recent.pk}


def test_the_saved_rules_hold_together_with_the_older_criteria():
    nl_vip = ContactFactory(country="NL", language="nl")
    ContactFactory(country="BE", language="nl")
    segment = SegmentFactory(
        countries=["NL"],
        rules={"match": "all", "rules": [{"field": "language", "op": "in", "value": ["nl"]}]},
    )
    assert list(segment_contacts(segment)) == [nl_vip]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            {"match": "all", "rules": [{"field": "colour", "op": "in", "value": ["red"]}]},
            "Condition 1: unknown field 'colour'.",
        ),
        (
            {"match": "all", "rules": [{"field": "country", "op": "contains", "value": "N"}]},
            "Condition 1: the operator 'contains' does not fit the field 'Country'; use one of: "
            "in, not_in, is_empty, is_not_empty.",
        ),
        (
            {
                "match": "any",
                "rules": [
                    {"field": "country", "op": "in", "value": ["NL"]},
                    {"match": "all", "rules": [{"field": "tags", "op": "any_of", "value": [999]}]},
                ],
            },
            "Group 2, condition 1: no tag with id 999.",
        ),
        (
            {"match": "either", "rules": [{"field": "country", "op": "in", "value": ["NL"]}]},
            'The rules: "match" must be "all" or "any".',
        ),
        (
            {
                "match": "all",
                "rules": [{"field": "consent.nothing", "op": "is", "value": "granted"}],
            },
            "Condition 1: unknown field 'consent.nothing'.",
        ),
        (
            {
                "match": "all",
                "rules": [{"field": "last_activity_at", "op": "within_days", "value": "7"}],
            },
            "Condition 1: give a whole number of days from 1 to 36500.",
        ),
        (
            {"match": "all", "rules": [{"field": "country", "op": "in", "value": ["XX"]}]},
            "Condition 1: unknown values: XX.",
        ),
    ],
)
def test_bad_rules_are_refused_with_where_and_why(rules, message):
    with pytest.raises(ValidationError) as refused:
        check_rules(rules)
    assert message in refused.value.messages


def test_groups_nest_three_levels_at_most():
    leaf = {"field": "country", "op": "in", "value": ["NL"]}
    deepest = {"match": "all", "rules": [leaf]}
    third = {"match": "any", "rules": [leaf, deepest]}
    second = {"match": "all", "rules": [third]}
    check_rules({"match": "all", "rules": [{"match": "any", "rules": [leaf]}, leaf]})
    with pytest.raises(ValidationError) as refused:
        check_rules({"match": "all", "rules": [second]})
    assert "Group 1, group 1, group 2: groups nest at most 3 levels deep." in refused.value.messages


def test_rules_read_in_words_with_the_names_of_what_they_choose():
    vip = Tag.objects.create(name="VIP")
    PurposeFactory(code="letter", name="Letter")
    rules = {
        "match": "all",
        "rules": [
            {
                "match": "any",
                "rules": [
                    {"field": "language", "op": "in", "value": ["nl", "ro"]},
                    {"field": "tags", "op": "any_of", "value": [vip.pk]},
                ],
            },
            {"field": "consent.letter", "op": "is", "value": "granted"},
            {"field": "last_activity_at", "op": "within_days", "value": 30},
            {"field": "company.name", "op": "starts_with", "value": "Acme"},
        ],
    }
    check_rules(rules)
    assert describe_rules(rules) == (
        "(Language is one of Nederlands, Română OR Tags any of VIP) AND Consent: Letter is "
        'Granted AND Own last action within the last 30 days AND Company name starts with "Acme"'
    )


def test_a_campaign_whose_segment_names_a_deleted_tag_does_not_start():
    NoticeVersionFactory()
    letter = PurposeFactory()
    vip = Tag.objects.create(name="VIP")
    reader = ContactFactory()
    reader.tags.add(vip)
    grant(reader, letter)
    segment = SegmentFactory(
        rules={"match": "all", "rules": [{"field": "tags", "op": "none_of", "value": [vip.pk]}]}
    )
    campaign = CampaignFactory(purpose=letter, segment=segment)
    tag_id = vip.pk
    vip.delete()
    with pytest.raises(ValidationError) as refused:
        starting.start_sending(campaign=campaign)
    assert refused.value.messages == [
        f"The segment's rules no longer hold: Condition 1: no tag with id {tag_id}."
    ]
    assert not Message.objects.exists()
