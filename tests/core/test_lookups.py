"""`__any_of` selects the same rows as `__in`, as one array on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.registry import Delete
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


def test_a_registry_delete_of_rows_on_their_own_table_is_one_plain_delete():
    gone, kept = ContactSourceFactory(), ContactSourceFactory()
    rows = ContactSource.objects.filter(contact_id__any_of=[gone.contact_id])

    with CaptureQueriesContext(connection) as queries:
        assert Delete().apply(rows) == 1

    (statement,) = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert statement.startswith('DELETE FROM "crm_contactsource" WHERE')
    assert "SELECT" not in statement
    assert list(ContactSource.objects.all()) == [kept]


def test_a_registry_delete_that_selects_nothing_deletes_nothing():
    ContactSourceFactory()

    assert Delete().apply(ContactSource.objects.filter(contact_id__in=[])) == 0
    assert ContactSource.objects.count() == 1
