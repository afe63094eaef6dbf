"""The unsubscribe link of a campaign e-mail counts the opt-out in that campaign's report."""

import pytest

from campaigns.models import MessageEvent
from privacy.links import unsubscribe_url
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ClientFactory

pytestmark = pytest.mark.django_db


def path(message, client=None) -> str:
    url = unsubscribe_url(message.contact, client).removeprefix("http://127.0.0.1:8000")
    return f"{url}?m={message.token}"


def test_a_one_click_unsubscribe_with_the_message_token_records_one_event(client):
    message = MessageFactory(campaign__client=None)
    for _ in range(2):
        response = client.post(path(message), {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    event = MessageEvent.objects.get()
    assert (event.kind, event.message, event.campaign) == (
        "unsubscribed",
        message,
        message.campaign,
    )


def test_the_unsubscribe_page_keeps_the_token_in_its_form(client):
    sender = ClientFactory()
    message = MessageFactory(campaign__client=sender)
    page = client.get(path(message, sender))
    assert 'action=""' in page.content.decode()
    assert MessageEvent.objects.count() == 0
    client.post(path(message, sender))
    assert MessageEvent.objects.get().kind == "unsubscribed"


def test_a_token_of_someone_elses_message_records_nothing(client):
    mine = MessageFactory(campaign__client=None)
    theirs = MessageFactory(campaign=mine.campaign)
    url = unsubscribe_url(mine.contact).removeprefix("http://127.0.0.1:8000")
    response = client.post(f"{url}?m={theirs.token}", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert MessageEvent.objects.count() == 0


def test_a_token_of_another_senders_campaign_records_nothing(client):
    message = MessageFactory(campaign__client=ClientFactory())
    url = unsubscribe_url(message.contact).removeprefix("http://127.0.0.1:8000")
    client.post(f"{url}?m={message.token}", {"List-Unsubscribe": "One-Click"})
    assert MessageEvent.objects.count() == 0
