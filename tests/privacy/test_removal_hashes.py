"""A removal batch finds address-keyed rows by the hashes its contacts store, read in the database.

Thousands of hashes sent as one parameter cost PostgreSQL several times what reading them in a
subquery does (docs/performance.md): only the requests, matched by link or by address, read the
batch's hashes into Python, once.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.models import Suppression
from crm.suppression import suppress
from privacy.deletion.removal import remove_subjects
from tests.privacy.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db


def hash_reads(queries: list[dict]) -> int:
    """Count the statements that read contacts' stored address hashes into Python."""
    return sum(
        1
        for query in queries
        if query["sql"].startswith(
            'SELECT "crm_contact"."email_hash" AS "email_hash" FROM "crm_contact"'
        )
    )


def test_a_batch_keeps_its_addresses_opt_outs_and_sends_hashes_only_to_match_requests():
    people = [ContactFactory(email=f"person{n}@example.org") for n in range(3)]
    neighbour = ContactFactory(email="neighbour@example.net")
    acme = ClientFactory()
    for contact in [*people, neighbour]:
        suppress(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBE, client=acme)

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        outcome = remove_subjects([contact.pk for contact in people])

    assert hash_reads(captured.captured_queries) == 1
    carrying = [q["sql"] for q in captured.captured_queries if people[0].email_hash in q["sql"]]
    assert carrying and all('"privacy_subjectrequest"' in sql.split("WHERE")[0] for sql in carrying)
    assert outcome.removed["crm.contact"] == 3
    assert outcome.retained["crm.suppression"]["rows"] == 3
    assert Suppression.objects.count() == 4
