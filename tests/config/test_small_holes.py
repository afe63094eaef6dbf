"""The small holes of the privacy review: HEAD, no-store on personal links, logs, names, next=."""

import logging

import httpx
import pytest
from django.contrib.auth.models import User

from config.log_filters import RedactPersonalData
from crm.models import Client as Sender
from privacy.links import preferences_url, status_url, unsubscribe_url
from tests.campaigns.factories import CampaignFactory, MessageFactory
from tests.privacy.factories import ContactFactory
from tests.privacy.pages import site_path
from tests.privacy.request_steps import SubjectRequestFactory

pytestmark = pytest.mark.django_db

PUBLIC = ["/", "/privacy/", "/subscribe/", "/contact/", "/privacy/requests/new/"]


def test_head_is_answered_on_healthz_and_public_pages(live_server):
    for path in ["/healthz", *PUBLIC]:
        answer = httpx.head(f"{live_server.url}{path}")
        assert answer.status_code == 200, path
        assert answer.content == b""


def test_pages_reached_by_a_personal_link_are_never_stored(client):
    contact = ContactFactory()
    personal = [
        site_path(preferences_url(contact)),
        site_path(unsubscribe_url(contact)),
        site_path(status_url(SubjectRequestFactory())),
        "/u/not-a-real-token/",  # a broken link's page is personal too: no copy kept
    ]
    for path in personal:
        assert "no-store" in client.get(path)["Cache-Control"], path
        assert "no-store" in client.head(path)["Cache-Control"], path
    assert "no-store" not in client.get("/privacy/").get("Cache-Control", "")


def test_celery_records_keep_the_task_name_while_a_persons_name_is_masked():
    celery = logging.LogRecord(
        "celery.app.trace",
        logging.INFO,
        __file__,
        1,
        "Task %(name)s[%(id)s] succeeded",
        ({"name": "privacy.tasks.purge_expired", "id": "abc"},),
        None,
    )
    ours = logging.LogRecord(
        "crm.contacts", logging.INFO, __file__, 1, "Saved %(name)s", ({"name": "Ana Pop"},), None
    )
    for record in (celery, ours):
        RedactPersonalData().filter(record)

    assert celery.getMessage() == "Task privacy.tasks.purge_expired[abc] succeeded"
    assert ours.getMessage() == "Saved [redacted]"


def test_a_newline_in_a_clients_name_does_not_break_the_from_header():
    from campaigns.sending.mail import build_email

    sender = Sender.objects.create(name="Acme\nTiles\r\n")
    message = MessageFactory(
        campaign=CampaignFactory(client=sender, from_email="news@acme.example.org", sent=True)
    )

    email = build_email(message.campaign, message, message.contact, {}).message()

    assert email["From"] == "Acme Tiles <news@acme.example.org>"


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example.net/", "//evil.example.net/", "javascript:alert(1)"]
)
def test_an_admin_login_with_an_unsafe_next_lands_on_the_admin(client, unsafe):
    User.objects.create_user("staff.member", password="a-made-up-passphrase", is_staff=True)

    answer = client.post(
        f"/admin/login/?next={unsafe}",
        {"username": "staff.member", "password": "a-made-up-passphrase", "next": unsafe},
    )

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/"
    assert client.get(answer["Location"]).status_code == 200
