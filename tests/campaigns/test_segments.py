from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.segments import SegmentCriteria, count_matching, matching_contacts, segment_contacts
from crm.models import Contact, Tag
from tests.campaigns.factories import SegmentFactory
from tests.crm.factories import CompanyFactory, ContactFactory, ContactSourceFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_each_criterion_narrows_the_segment_and_values_within_one_widen_it():
    software = CompanyFactory(industry="Software")
    retail = CompanyFactory(industry="Retail")
    anna = ContactFactory(company=software, country="NL", relationship="customer")
    ContactFactory(company=retail, country="NL", relationship="customer")
    lena = ContactFactory(company=software, country="DE", relationship="customer")
    ContactFactory(company=software, country="DE", relationship="prospect")

    criteria = SegmentCriteria(
        industries=("Software",), countries=("NL", "DE"), relationships=("customer",)
    )
    assert set(matching_contacts(criteria)) == {anna, lena}
    assert set(matching_contacts(SegmentCriteria(company_ids=(retail.pk,)))) == {
        retail.contacts.get()
    }


def test_tags_sources_and_activity_count_a_person_once():
    vip, fair = Tag.objects.create(name="VIP"), Tag.objects.create(name="Fair 2026")
    form = SourceFactory()
    both = ContactFactory(last_activity_at=timezone.now() - timedelta(days=10))
    both.tags.add(vip, fair)
    ContactSourceFactory(contact=both, source=form)
    ContactSourceFactory(contact=both, source=form, reference="second visit")
    idle = ContactFactory(last_activity_at=timezone.now() - timedelta(days=400))
    idle.tags.add(vip)
    ContactSourceFactory(contact=idle, source=form)

    criteria = SegmentCriteria(tag_ids=(vip.pk, fair.pk), source_ids=(form.pk,))
    assert sorted(c.pk for c in matching_contacts(criteria)) == sorted([both.pk, idle.pk])
    recent = SegmentCriteria(tag_ids=(vip.pk,), active_within_days=30)
    assert list(matching_contacts(recent)) == [both]


def test_a_saved_segment_with_no_criteria_matches_everyone():
    ContactFactory.create_batch(3)
    segment = SegmentFactory()
    assert segment_contacts(segment).count() == Contact.objects.count() == 3


def test_a_saved_segment_reads_its_criteria():
    vip = Tag.objects.create(name="VIP")
    tagged = ContactFactory(country="BE")
    tagged.tags.add(vip)
    ContactFactory(country="BE")
    segment = SegmentFactory(countries=["BE"])
    segment.tags.add(vip)
    assert list(segment_contacts(segment)) == [tagged]


def test_the_count_is_exact_below_the_limit():
    ContactFactory.create_batch(4, country="FR")
    ContactFactory(country="NL")
    result = count_matching(SegmentCriteria(countries=("FR",)), exact_limit=10)
    assert (result.value, result.exact) == (4, True)


def test_above_the_limit_the_count_is_an_estimate_on_postgresql_and_exact_elsewhere():
    from django.db import connection

    ContactFactory.create_batch(6, country="FR")
    result = count_matching(SegmentCriteria(countries=("FR",)), exact_limit=3)
    if connection.vendor == "postgresql":
        assert result.exact is False
        assert result.value >= 4
    else:
        assert (result.value, result.exact) == (6, True)
