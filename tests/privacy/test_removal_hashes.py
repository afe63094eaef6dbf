"""A removal batch reads its contacts' stored address hashes once, and finds the same rows."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.models import Suppression
from crm.suppression import suppress
from privacy.deletion.removal import remove_subjects
from tests.privacy.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db


def hash_reads(queries: list[dict]) -> int:
    """Count the statements that read contacts' stored address hashes."""
    return sum(
        1
        for query in queries
        if query["sql"].startswith(
            'SELECT "crm_contact"."email_hash" AS "email_hash" FROM "crm_contact"'
        )
    )


def test_a_batch_reads_the_stored_hashes_once_and_keeps_the_opt_outs_of_its_addresses():
    people = [ContactFactory(email=f"person{n}@example.org") for n in range(3)]
    neighbour = ContactFactory(email="neighbour@example.net")
    acme = ClientFactory()
    for contact in [*people, neighbour]:
        suppress(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBE, client=acme)

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        outcome = remove_subjects([contact.pk for contact in people])

    assert hash_reads(captured.captured_queries) == 1
    assert outcome.removed["crm.contact"] == 3
    assert outcome.retained["crm.suppression"]["rows"] == 3
    assert Suppression.objects.count() == 4
