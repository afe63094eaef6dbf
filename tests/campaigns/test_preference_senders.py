"""The preference centre shows and accepts exactly the senders that supplied or mailed a person."""

import pytest

from core.models import AuditEvent
from crm.models import Source, Suppression
from crm.suppression import may_contact
from privacy.links import preferences_url
from tests.campaigns.factories import CampaignFactory, MessageFactory
from tests.crm.factories import ClientFactory, ContactFactory, ContactSourceFactory
from tests.privacy.pages import site_path, tags, text

pytestmark = pytest.mark.django_db


def sender_buttons(page) -> list[str]:
    return [b["value"] for b in tags(page, "button") if b.get("name") == "unsubscribe_client"]


@pytest.fixture
def reader():
    return ContactFactory(email="noor.dijkstra@example.org")


def test_a_client_that_mailed_the_person_without_supplying_them_is_offered(client, reader):
    mailer = ClientFactory(name="Harbour Ferries")
    MessageFactory(campaign=CampaignFactory(client=mailer, sent=True), contact=reader)
    path = site_path(preferences_url(reader))

    assert sender_buttons(client.get(path)) == [str(mailer.pk)]
    done = client.post(path, {"unsubscribe_client": str(mailer.pk)})

    assert "You will no longer receive e-mails we send for Harbour Ferries." in text(done)
    assert not may_contact(email=reader.email, client=mailer)


def test_another_clients_id_is_refused_without_its_name_or_a_suppression(client, reader):
    supplier = ClientFactory(name="Acme Tiles")
    ContactSourceFactory(
        contact=reader, source__kind=Source.Kind.CLIENT_LIST, source__client=supplier
    )
    stranger = ClientFactory(name="Secret Bank")
    MessageFactory(campaign=CampaignFactory(client=stranger, sent=True))  # mailed someone else
    path = site_path(preferences_url(reader))
    audit_before = AuditEvent.objects.count()

    refused = client.post(path, {"unsubscribe_client": str(stranger.pk)})

    assert refused.status_code == 404
    assert "Secret Bank" not in text(refused)
    assert not Suppression.objects.exists()
    assert AuditEvent.objects.count() == audit_before
    assert sender_buttons(client.get(path)) == [str(supplier.pk)]
    assert "Secret Bank" not in text(client.get(path))
