"""On PostgreSQL, triggers refuse what the foreign keys of the links to contacts refused.

The links to contacts have no database foreign key (core/orphans.py): a statement-level trigger
on `crm_contact` refuses deleting contacts rows still point at, and one on each linked table
(messages aside) refuses rows naming a contact that does not exist.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from core.orphans import GUARD_NAME, INSERTED_FROM_CONTACTS, unconstrained_contact_links
from crm.models import Contact, ContactSource
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ContactSourceFactory
from tests.orphans import orphaned_rows
from tests.privacy.factories import ContactFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's"),
]


def test_deleting_a_contact_a_message_still_points_at_is_refused_and_nothing_goes():
    message = MessageFactory()
    others = ContactFactory.create_batch(3)
    doomed = Contact.objects.filter(pk__in=[message.contact_id, *(c.pk for c in others)])

    with (
        pytest.raises(IntegrityError, match=r"campaigns_message\.contact_id still points"),
        transaction.atomic(),
    ):
        doomed._raw_delete(doomed.db)

    assert Contact.objects.filter(pk__in=[c.pk for c in others]).count() == 3
    assert orphaned_rows() == {}


def test_deleting_contacts_nothing_points_at_goes_through():
    message = MessageFactory()
    others = ContactFactory.create_batch(3)
    free = Contact.objects.filter(pk__in=[c.pk for c in others])

    with transaction.atomic():
        assert free._raw_delete(free.db) == 3

    assert Contact.objects.filter(pk=message.contact_id).exists()


def test_the_trigger_checks_every_link_without_a_database_constraint():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [GUARD_NAME])
        (definition,) = cursor.fetchone()

    missing = [
        f"{table}.{column}"
        for table, column in unconstrained_contact_links()
        if f"JOIN {table} ON {table}.{column} = removed.id" not in definition
    ]
    assert missing == [], "add a migration recreating the trigger (core.orphans.create_guard_sql)"


def test_provenance_naming_a_contact_that_does_not_exist_is_refused_and_nothing_is_written():
    real = ContactSourceFactory()
    rows = [
        ContactSource(
            contact_id=real.contact_id, source=real.source, collected_at=real.collected_at
        ),
        ContactSource(contact_id=10**9, source=real.source, collected_at=real.collected_at),
    ]

    with (
        pytest.raises(IntegrityError, match="names a contact that does not exist"),
        transaction.atomic(),
    ):
        ContactSource.objects.bulk_create(rows)

    assert list(ContactSource.objects.all()) == [real]


def test_every_link_but_the_messages_has_its_insert_check():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = {name for (name,) in cursor.fetchall()}

    expected = {
        f"{table}_{column}_exists"
        for table, column in unconstrained_contact_links()
        if table not in INSERTED_FROM_CONTACTS
    }
    assert expected - triggers == set()
    assert "campaigns_message_contact_id_exists" not in triggers
