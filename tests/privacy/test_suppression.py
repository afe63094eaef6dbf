"""Suppression keeps a keyed hash of the address, never the address, and answers may_contact."""

import hashlib
import hmac

import pytest
from django.db import connection

from crm.models import Suppression
from crm.suppression import email_hash, may_contact, suppress, suppressed_hashes
from tests.privacy.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_the_hash_is_an_hmac_sha256_of_the_normalised_address(settings):
    expected = hmac.new(
        settings.PRIVACY_HASH_KEY.encode(), b"anna@example.org", hashlib.sha256
    ).hexdigest()

    assert email_hash(" Anna@Example.org") == expected
    assert email_hash("anna@example.org") == expected


def test_another_key_gives_another_hash(settings):
    before = email_hash("anna@example.org")
    settings.PRIVACY_HASH_KEY = "another-key-for-another-installation"

    assert email_hash("anna@example.org") != before


def test_no_address_is_stored_in_the_suppression_table():
    acme = ClientFactory()
    suppress(email="Willem.de.Groot@example.org", reason=Suppression.Reason.UNSUBSCRIBE)
    suppress(email="willem.de.groot@example.org", reason=Suppression.Reason.COMPLAINT, client=acme)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Suppression._meta.db_table}")  # noqa: S608 - our own name
        cells = [str(cell).lower() for row in cursor.fetchall() for cell in row]

    assert len(cells) > 0
    assert not [cell for cell in cells if "willem" in cell or "@" in cell or "example" in cell]


def test_a_global_suppression_stops_every_sender_and_a_client_one_only_that_client():
    acme, bolt = ClientFactory(), ClientFactory()
    suppress(email="femke.bos@example.org", reason=Suppression.Reason.UNSUBSCRIBE, client=acme)
    suppress(email="jan.visser@example.net", reason=Suppression.Reason.HARD_BOUNCE)

    assert may_contact(email="femke.bos@example.org")
    assert not may_contact(email=" FEMKE.bos@example.org", client=acme)
    assert may_contact(email="femke.bos@example.org", client=bolt)
    assert not may_contact(email="jan.visser@example.net")
    assert not may_contact(email="jan.visser@example.net", client=bolt)
    assert suppressed_hashes(
        [email_hash("femke.bos@example.org"), email_hash("jan.visser@example.net")], client=acme
    ) == {email_hash("femke.bos@example.org"), email_hash("jan.visser@example.net")}


def test_suppressing_twice_keeps_one_row():
    first = suppress(email="tom.peters@example.org", reason=Suppression.Reason.UNSUBSCRIBE)
    again = suppress(email="Tom.Peters@example.org ", reason=Suppression.Reason.OBJECTION)

    assert again == first
    assert Suppression.objects.count() == 1


@pytest.mark.parametrize("address", ["", "not-an-address", "tom.peters@", "@example.org"])
def test_an_invalid_address_may_never_be_contacted(address):
    assert may_contact(email=address) is False
