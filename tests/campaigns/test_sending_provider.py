"""Sending through an e-mail provider's HTTP API with django-anymail's backend (Mailgun's here).

A local HTTP server stands in for the provider's API endpoint: anymail's real backend posts each
message to it over HTTP, as it would to the provider, and the server answers as the provider
documents (200 with a queued id; 429 when rate limited; 400 for a refused message; 500).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from campaigns.models import Message
from campaigns.sending import batches, handover, starting
from tests.campaigns.factories import CampaignFactory
from tests.crm.factories import ContactFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant

pytestmark = pytest.mark.django_db


class MailgunApi(BaseHTTPRequestHandler):
    """Mailgun's POST /v3/<domain>/messages, answering per recipient as told in `answers`."""

    answers: dict[str, int] = {}
    received: list[dict] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            fields = _multipart_fields(self.headers["Content-Type"], body)
        else:
            fields = {k: v[0] for k, v in parse_qs(body).items()}
        self.received.append(fields)
        status = self.answers.get(fields.get("to", ""), 200)
        payload = (
            {"id": "<20261116.1@mg.example.org>", "message": "Queued. Thank you."}
            if status == 200
            else {"message": "refused"}
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        return None


def _multipart_fields(content_type: str, body: str) -> dict:
    boundary = content_type.split("boundary=", 1)[1].strip('"')
    fields = {}
    for part in body.split(f"--{boundary}"):
        head, _, value = part.partition("\r\n\r\n")
        if 'name="' in head:
            name = head.split('name="', 1)[1].split('"', 1)[0]
            fields.setdefault(name, value.rstrip("\r\n"))
    return fields


@pytest.fixture
def api(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), MailgunApi)
    MailgunApi.answers, MailgunApi.received = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": "key-example",
        "MAILGUN_API_URL": f"http://127.0.0.1:{server.server_port}/v3",
        "MAILGUN_SENDER_DOMAIN": "mg.example.org",
    }
    settings.SENDING_RATE_PER_WORKER = 0
    settings.SITE_DOMAIN = "crm.example.org"
    settings.DEFAULT_FROM_EMAIL = "CRM <crm@mg.example.org>"
    yield MailgunApi
    server.shutdown()
    server.server_close()


def started_campaign(count: int):
    NoticeVersionFactory()
    purpose = PurposeFactory()
    people = ContactFactory.create_batch(count)
    for person in people:
        grant(person, purpose)
    campaign = CampaignFactory(purpose=purpose)
    starting.start_sending(campaign=campaign)
    return campaign, people


def test_each_message_reaches_the_provider_with_its_token_for_the_events_to_return(api):
    campaign, [person] = started_campaign(1)
    outcome = batches.send_batch(campaign_id=campaign.pk)
    assert outcome.sent == 1
    message = Message.objects.get()
    [posted] = api.received
    assert posted["to"] == person.email
    assert posted["v:crm_message"] == message.token
    assert posted["h:Message-Id"] == f"<{message.token}@crm.example.org>"
    assert posted["h:X-Crm-Message"] == message.token
    assert posted["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.status == Message.Status.SENT


def test_provider_refusals_are_retried_or_failed_and_a_5xx_is_never_resent(api, settings):
    settings.SENDING_MAX_ATTEMPTS = 3
    campaign, [ok, limited, refused, broken] = started_campaign(4)
    api.answers = {limited.email: 429, refused.email: 400, broken.email: 500}
    with pytest.raises(handover.SendingInterrupted):
        batches.send_batch(campaign_id=campaign.pk)
    by_person = {m.contact_id: m for m in Message.objects.all()}
    assert by_person[ok.pk].status == Message.Status.SENT
    assert (by_person[limited.pk].status, by_person[limited.pk].error) == (
        Message.Status.SENDING,
        "SMTP 421: retrying",
    )
    assert (by_person[refused.pk].status, by_person[refused.pk].error) == (
        Message.Status.FAILED,
        "SMTP 554 (permanent)",
    )
    # The provider may have taken it before failing: marked unknown, never sent again.
    assert by_person[broken.pk].status == Message.Status.FAILED
    assert by_person[broken.pk].error == handover.UNKNOWN_OUTCOME
