"""`__any_of` selects the same rows as `__in`, as one array on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Contact, ContactSource
from tests.crm.factories import ContactFactory, ContactSourceFactory

pytestmark = pytest.mark.django_db


def test_any_of_selects_the_same_contacts_as_in():
    contacts = ContactFactory.create_batch(5)
    wanted = [contacts[0].pk, contacts[3].pk, 10**9]
    assert set(Contact.objects.filter(pk__any_of=wanted)) == set(
        Contact.objects.filter(pk__in=wanted)
    )
    assert set(Contact.objects.filter(pk__any_of=wanted)) == {contacts[0], contacts[3]}


def test_any_of_an_empty_list_selects_nothing_and_deletes_nothing():
    ContactFactory.create_batch(2)
    assert list(Contact.objects.filter(pk__any_of=[])) == []
    assert Contact.objects.exclude(pk__any_of=[]).count() == 2


def test_any_of_matches_text_values():
    kept, other = ContactFactory(), ContactFactory()
    rows = Contact.objects.filter(email_hash__any_of=[kept.email_hash, "not-a-hash"])
    assert list(rows) == [kept]
    assert other.email_hash != kept.email_hash


def test_on_postgresql_thousands_of_ids_travel_as_one_parameter():
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's; SQLite writes IN (…)")
    with CaptureQueriesContext(connection) as queries:
        list(Contact.objects.filter(pk__any_of=list(range(1, 3001))))
    assert "= ANY(" in queries[0]["sql"]
    assert " IN (" not in queries[0]["sql"]


def test_any_of_follows_a_relation():
    kept, other = ContactSourceFactory(), ContactSourceFactory()
    sources = ContactSource.objects.filter(contact__any_of=[kept.contact, 10**9])
    assert list(sources) == [kept]
    assert other.contact_id != kept.contact_id
