"""On PostgreSQL, triggers refuse what the foreign keys of the unconstrained links refused.

The links to contacts (and a few beside them) have no database foreign key (core/orphans.py): a
statement-level trigger on each table pointed at refuses deleting rows still pointed at, and one
on each pointing table (messages' contact aside) refuses rows naming one that does not exist.
"""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.orphans import (
    UNCHECKED_INSERTS,
    delete_guard_name,
    insert_guard_name,
    unconstrained_links,
)
from crm.models import Contact, ContactSource
from privacy.models import ConsentEvent
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ContactSourceFactory, SourceFactory
from tests.orphans import orphaned_rows
from tests.privacy.factories import ContactFactory, PurposeFactory, grant

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"),
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


def test_deleting_the_consent_event_a_state_rests_on_is_refused():
    event = grant(ContactFactory(), PurposeFactory())
    events = ConsentEvent.objects.filter(pk=event.pk)

    with (
        pytest.raises(IntegrityError, match=r"privacy_consentstate\.last_event_id still points"),
        transaction.atomic(),
    ):
        events._raw_delete(events.db)

    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_provenance_naming_a_contact_that_does_not_exist_is_refused_and_nothing_is_written():
    real = ContactSourceFactory()
    source, collected_at = real.source, real.collected_at
    rows = [
        ContactSource(contact_id=real.contact_id, source=source, collected_at=collected_at),
        ContactSource(contact_id=10**9, source=source, collected_at=collected_at),
    ]

    with (
        pytest.raises(IntegrityError, match="names a crm_contact row that does not exist"),
        transaction.atomic(),
    ):
        ContactSource.objects.bulk_create(rows)

    assert list(ContactSource.objects.all()) == [real]


@pytest.mark.django_db(transaction=True)
def test_a_contact_named_by_provenance_being_written_cannot_be_deleted_until_it_commits():
    existing, source = ContactFactory(), SourceFactory()
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    try:
        with transaction.atomic():
            created = Contact.objects.create(email="new@example.org")
            ContactSource.objects.bulk_create(
                ContactSource(contact_id=pk, source=source, collected_at=timezone.now())
                for pk in (existing.pk, created.pk)
            )
            other.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                # Another transaction erasing the person while the provenance is being written.
                other.execute("DELETE FROM crm_contact WHERE id = %s", [existing.pk])
    finally:
        other.close()

    assert ContactSource.objects.filter(contact_id=created.pk).exists()
    assert Contact.objects.filter(pk=existing.pk).exists()
    assert orphaned_rows() == {}


def test_every_unconstrained_link_is_in_the_triggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = {name for (name,) in cursor.fetchall()}
        definitions = {}
        for target in {target for _, _, target in unconstrained_links()}:
            cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [delete_guard_name(target)])
            definitions[target] = cursor.fetchone()[0]

    unguarded = [
        f"{table}.{column}"
        for table, column, target in unconstrained_links()
        if f"JOIN {table} ON {table}.{column} = removed.id" not in definitions[target]
        or (
            (table, column) not in UNCHECKED_INSERTS
            and insert_guard_name(table, column) not in triggers
        )
    ]
    assert unguarded == [], "add a migration recreating the triggers (core.orphans)"
    assert insert_guard_name("campaigns_message", "contact_id") not in triggers
