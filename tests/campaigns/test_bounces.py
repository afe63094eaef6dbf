"""Bounces and complaints: the signed provider webhook and mbox files of reports."""

import hashlib
import hmac
import json
import secrets
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import MessageEvent, WebhookNonce
from core.models import AuditEvent
from crm.models import Contact, Suppression
from crm.suppression import may_contact
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ClientFactory

pytestmark = pytest.mark.django_db

KEY = "key-webhook-signing-example"
URL = "/webhooks/email-provider/"


@pytest.fixture(autouse=True)
def signing_key(settings):
    settings.MAILGUN_WEBHOOK_SIGNING_KEY = KEY


def mailgun(event: str, token: str, *, severity: str = "", key: str = KEY, **signature) -> dict:
    """Return a Mailgun webhook body for the message with `token`, signed with `key`."""
    stamp = str(signature.get("timestamp", int(time.time())))
    nonce = signature.get("token", secrets.token_hex(25))
    digest = hmac.new(key.encode(), (stamp + nonce).encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "timestamp": time.time(),
        "message": {"headers": {"message-id": f"{token}@crm.example.org"}},
    }
    if severity:
        data["severity"] = severity
    return {
        "signature": {"timestamp": stamp, "token": nonce, "signature": digest},
        "event-data": data,
    }


def post(client, body: dict):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_a_hard_bounce_marks_the_address_bounced_with_an_event_and_an_audit_row(client):
    message = MessageFactory()
    response = post(client, mailgun("failed", message.token, severity="permanent"))
    assert response.status_code == 200
    assert Contact.objects.get(pk=message.contact_id).email_status == "bounced"
    event = MessageEvent.objects.get()
    assert (event.kind, event.detail, event.message) == ("bounced", "hard", message)
    audit = AuditEvent.objects.get(object_id=str(message.contact_id), channel="webhook")
    assert audit.details == {"hard_bounce": True, "fields": ["email_status"]}


def test_a_soft_bounce_is_only_counted(client):
    message = MessageFactory()
    post(client, mailgun("failed", message.token, severity="temporary"))
    assert Contact.objects.get(pk=message.contact_id).email_status == "valid"
    assert MessageEvent.objects.get().detail == "soft"


def test_a_complaint_suppresses_the_address_for_that_sender_only(client):
    sender = ClientFactory()
    message = MessageFactory(campaign__client=sender)
    email = message.contact.email
    post(client, mailgun("complained", message.token))
    assert not may_contact(email=email, client=sender)
    assert may_contact(email=email)
    assert may_contact(email=email, client=ClientFactory())
    assert Suppression.objects.get().reason == "complaint"
    assert MessageEvent.objects.get().kind == "complained"
    assert Contact.objects.get(pk=message.contact_id).email_status == "valid"


def test_a_complaint_about_our_own_campaign_suppresses_the_address_for_us(client):
    message = MessageFactory(campaign__client=None)
    post(client, mailgun("complained", message.token))
    suppression = Suppression.objects.get()
    assert suppression.client is None
    assert not may_contact(email=message.contact.email)


def test_a_delivery_is_counted_once_however_often_it_is_reported(client):
    message = MessageFactory()
    post(client, mailgun("delivered", message.token))
    response = post(client, mailgun("delivered", message.token))
    assert response.content == b"0 recorded"
    assert MessageEvent.objects.filter(kind="delivered").count() == 1


@pytest.mark.parametrize(
    "forgery",
    ["wrong key", "no signature", "stale", "future", "not json", "not an object", "no key set"],
)
def test_a_forged_or_stale_request_is_refused_and_records_nothing(client, settings, forgery):
    message = MessageFactory()
    body = mailgun("failed", message.token, severity="permanent")
    if forgery == "wrong key":
        body = mailgun("failed", message.token, severity="permanent", key="guessed")
    elif forgery == "no signature":
        del body["signature"]
    elif forgery == "stale":
        body = mailgun(
            "failed", message.token, severity="permanent", timestamp=int(time.time()) - 3600
        )
    elif forgery == "future":
        body = mailgun(
            "failed", message.token, severity="permanent", timestamp=int(time.time()) + 3600
        )
    elif forgery == "no key set":
        settings.MAILGUN_WEBHOOK_SIGNING_KEY = ""
    if forgery == "not json":
        response = client.post(URL, "failed", content_type="application/json")
    elif forgery == "not an object":
        response = client.post(URL, "[1]", content_type="application/json")
    else:
        response = post(client, body)
    assert response.status_code == 403
    assert MessageEvent.objects.count() == 0
    assert WebhookNonce.objects.count() == 0
    assert Contact.objects.get(pk=message.contact_id).email_status == "valid"


def test_a_replayed_request_is_refused(client):
    message = MessageFactory()
    body = mailgun("failed", message.token, severity="temporary")
    assert post(client, body).status_code == 200
    MessageEvent.objects.all().delete()
    assert post(client, body).status_code == 403
    assert MessageEvent.objects.count() == 0


def test_a_webhook_for_a_message_not_ours_records_nothing(client):
    response = post(client, mailgun("failed", secrets.token_urlsafe(32), severity="permanent"))
    assert response.status_code == 200
    assert MessageEvent.objects.count() == 0


# Mailbox files --------------------------------------------------------------------------------

DSN = """From MAILER-DAEMON Mon Nov 16 10:00:00 2026
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces@crm.example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{n}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B{n}"

--B{n}
Content-Type: text/plain

Your message could not be delivered.

--B{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {email}
Action: {action}
Status: {status}

--B{n}
Content-Type: {returned}

{headers}
--B{n}--

"""
ARF = """From abuse@isp.example.net Mon Nov 16 11:00:00 2026
From: abuse@isp.example.net
To: fbl@crm.example.org
Subject: Complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is a spam complaint.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1

--ARF
Content-Type: message/rfc822

From: crm@example.org
To: {email}
X-CRM-Message: {token}
Subject: Our spring letter

Hello

--ARF--

"""
PLAIN = """From someone@example.net Mon Nov 16 12:00:00 2026
From: someone@example.net
To: bounces@crm.example.org
Subject: Out of office

I am away.

"""


def dsn(n: int, message, *, action: str, status: str, returned: str) -> str:
    if returned == "message/rfc822":
        headers = f"From: crm@example.org\nX-CRM-Message: {message.token}\nSubject: Hi\n\nHello\n"
    else:
        headers = f"From: crm@example.org\nMessage-ID: <{message.token}@crm.example.org>\n"
    return DSN.format(
        n=n,
        email=message.contact.email,
        action=action,
        status=status,
        returned=returned,
        headers=headers,
    )


def test_the_mailbox_command_records_bounces_and_complaints_once(tmp_path):
    hard = MessageFactory()
    soft = MessageFactory()
    complained = MessageFactory(campaign__client=ClientFactory())
    stranger = MessageFactory.build(token=secrets.token_urlsafe(32), contact=hard.contact)
    box = tmp_path / "bounces.mbox"
    box.write_text(
        dsn(1, hard, action="failed", status="5.1.1", returned="message/rfc822")
        + dsn(2, soft, action="delayed", status="4.2.2", returned="text/rfc822-headers")
        + dsn(3, stranger, action="failed", status="5.1.1", returned="message/rfc822")
        + ARF.format(email=complained.contact.email, token=complained.token)
        + PLAIN
    )
    out = StringIO()
    call_command("feed_bounces", str(box), stdout=out)
    assert out.getvalue().strip() == (
        "3 recorded, 0 already recorded, 1 for no message of ours, 1 not a report."
    )
    assert Contact.objects.get(pk=hard.contact_id).email_status == "bounced"
    assert Contact.objects.get(pk=soft.contact_id).email_status == "valid"
    assert sorted(MessageEvent.objects.values_list("message_id", "kind", "detail")) == sorted(
        [
            (hard.pk, "bounced", "hard"),
            (soft.pk, "bounced", "soft"),
            (complained.pk, "complained", ""),
        ]
    )
    assert not may_contact(email=complained.contact.email, client=complained.campaign.client)

    again = StringIO()
    call_command("feed_bounces", str(box), stdout=again)
    assert again.getvalue().startswith("0 recorded, 3 already recorded")
    assert MessageEvent.objects.count() == 3


def test_a_missing_mailbox_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No mailbox file"):
        call_command("feed_bounces", str(tmp_path / "none.mbox"))
