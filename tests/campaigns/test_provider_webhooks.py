"""E-mail providers' tracking webhooks through django-anymail, with each provider's own payloads.

The payloads follow each provider's documented event format (field names, nesting, how custom
data comes back) and are signed the way the provider signs: Mailgun's HMAC-SHA256 of timestamp
and token, Mandrill's HMAC-SHA1 of the URL and the sorted form fields, and HTTP basic auth for
the providers that do not sign. Each request goes through the real URL, view and anymail parser.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest

from campaigns.models import MessageEvent
from core.models import AuditEvent
from crm.models import Contact, Suppression
from crm.suppression import may_contact
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ClientFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/email-provider/"
MAILGUN_KEY = "key-webhook-signing-example"
MANDRILL_KEY = "mandrill-webhook-key-example"
MANDRILL_URL = "https://crm.example.org/webhooks/email-provider/"
SECRET = "crm:webhook-secret-example"


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
        "MANDRILL_WEBHOOK_URL": MANDRILL_URL,
        "WEBHOOK_SECRET": SECRET,
    }


def basic_auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


# Each provider's payload for one event: (event, message, reason) -> body. ---------------------


def mailgun_body(event, message, reason="", *, key=MAILGUN_KEY, timestamp=None):
    stamp = str(int(time.time()))
    nonce = secrets.token_hex(25)
    digest = hmac.new(key.encode(), (stamp + nonce).encode(), hashlib.sha256).hexdigest()
    kinds = {
        "delivered": ("delivered", None),
        "hard": ("failed", "permanent"),
        "soft": ("failed", "temporary"),
        "complained": ("complained", None),
        "unsubscribed": ("unsubscribed", None),
    }
    name, severity = kinds[event]
    data = {
        "id": secrets.token_hex(8),
        "event": name,
        "timestamp": timestamp if timestamp is not None else time.time(),
        "recipient": message.contact.email,
        "user-variables": {"crm_message": message.token},
        "message": {"headers": {"message-id": f"{message.token}@mg.example.org"}},
    }
    if severity:
        data["severity"] = severity
        data["reason"] = "bounce" if severity == "permanent" else "generic"
        data["delivery-status"] = {"code": 550, "message": reason, "description": ""}
    return {
        "signature": {"timestamp": stamp, "token": nonce, "signature": digest},
        "event-data": data,
    }


def postmark_body(event, message, reason=""):
    if event == "delivered":
        return {
            "RecordType": "Delivery",
            "MessageID": secrets.token_hex(8),
            "Recipient": message.contact.email,
            "DeliveredAt": "2026-11-16T10:00:00Z",
            "Metadata": {"crm_message": message.token},
        }
    if event == "complained":
        return {
            "RecordType": "SpamComplaint",
            "Type": "SpamComplaint",
            "TypeCode": 100001,
            "ID": 42,
            "MessageID": secrets.token_hex(8),
            "Email": message.contact.email,
            "BouncedAt": "2026-11-16T10:00:00Z",
            "Metadata": {"crm_message": message.token},
        }
    kind = {"hard": ("HardBounce", 1), "soft": ("SoftBounce", 4096)}[event]
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": kind[0],
        "TypeCode": kind[1],
        "MessageID": secrets.token_hex(8),
        "Description": "The server was unable to deliver your message.",
        "Details": reason,
        "Email": message.contact.email,
        "BouncedAt": "2026-11-16T10:00:00Z",
        "Inactive": event == "hard",
        "Metadata": {"crm_message": message.token},
    }


def sendgrid_body(event, message, reason=""):
    base = {
        "email": message.contact.email,
        "timestamp": int(time.time()),
        "smtp-id": f"<{message.token}@{'sg.example.org'}>",
        "sg_event_id": secrets.token_hex(8),
        "sg_message_id": secrets.token_hex(8),
        "crm_message": message.token,
    }
    if event == "delivered":
        return [{**base, "event": "delivered", "response": "250 OK"}]
    if event == "complained":
        return [{**base, "event": "spamreport"}]
    if event == "soft":
        return [{**base, "event": "deferred", "response": reason, "attempt": "1"}]
    return [{**base, "event": "bounce", "type": "bounce", "status": "5.0.0", "reason": reason}]


def mailjet_body(event, message, reason=""):
    base = {
        "time": int(time.time()),
        "MessageID": 19421777835146490,
        "email": message.contact.email,
        "mj_campaign_id": 7257,
        "mj_contact_id": 4,
        "Payload": json.dumps({"crm_message": message.token}),
    }
    if event == "delivered":
        return [{**base, "event": "sent", "smtp_reply": "250 OK"}]
    if event == "complained":
        return [{**base, "event": "spam", "source": "JMRPP"}]
    hard = event == "hard"
    return [
        {
            **base,
            "event": "bounce",
            "blocked": False,
            "hard_bounce": hard,
            "error_related_to": "recipient",
            "error": "user unknown" if hard else "mailbox full",
            "comment": reason,
        }
    ]


def brevo_body(event, message, reason=""):
    name = {
        "delivered": "delivered",
        "hard": "hard_bounce",
        "soft": "soft_bounce",
        "complained": "spam",
    }[event]
    return {
        "event": name,
        "email": message.contact.email,
        "id": 2,
        "date": "2026-11-16 10:00:00",
        "ts_epoch": int(time.time() * 1000),
        "message-id": f"<{message.token}@smtp-relay.example.org>",
        "X-Mailin-custom": json.dumps({"crm_message": message.token}),
        "reason": reason,
    }


def sparkpost_body(event, message, reason=""):
    kinds = {
        "delivered": ("delivery", None),
        "hard": ("bounce", "10"),
        "soft": ("delay", None),
        "complained": ("spam_complaint", None),
        "policy": ("bounce", "51"),
    }
    name, bounce_class = kinds[event]
    inner = {
        "type": name,
        "event_id": str(secrets.randbits(60)),
        "timestamp": str(int(time.time())),
        "transmission_id": str(secrets.randbits(60)),
        "raw_rcpt_to": message.contact.email,
        "rcpt_meta": {"crm_message": message.token},
        "raw_reason": reason,
    }
    if bounce_class:
        inner["bounce_class"] = bounce_class
    # Deliveries, bounces, delays and spam complaints are all SparkPost "message events".
    return [{"msys": {"message_event": inner}}]


PROVIDERS = {
    "mailgun": mailgun_body,
    "postmark": postmark_body,
    "sendgrid": sendgrid_body,
    "mailjet": mailjet_body,
    "brevo": brevo_body,
    "sparkpost": sparkpost_body,
}


def post(client, provider, body):
    """Post as the provider would to https://user:password@host/webhooks/email-provider/."""
    return client.post(URL, json.dumps(body), content_type="application/json", **basic_auth())


@pytest.fixture
def provider(request, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = request.param
    return request.param


@pytest.mark.parametrize("provider", sorted(PROVIDERS), indirect=True)
def test_a_hard_bounce_marks_the_address_bounced(client, provider):
    message = MessageFactory()
    body = PROVIDERS[provider](
        "hard", message, "550 5.1.1 <x>: Recipient address rejected: User unknown"
    )
    response = post(client, provider, body)
    assert response.status_code == 200, response.content
    assert Contact.objects.get(pk=message.contact_id).email_status == "bounced"
    event = MessageEvent.objects.get()
    assert (event.message, event.kind, event.detail) == (message, "bounced", "hard")
    assert AuditEvent.objects.filter(object_id=str(message.contact_id), channel="webhook").exists()


@pytest.mark.parametrize("provider", sorted(PROVIDERS), indirect=True)
def test_a_delivery_is_counted_once_however_often_the_provider_retries(client, provider):
    message = MessageFactory()
    body = PROVIDERS[provider]("delivered", message)
    assert post(client, provider, body).status_code == 200
    assert post(client, provider, body).status_code == 200
    assert MessageEvent.objects.filter(message=message, kind="delivered").count() == 1


@pytest.mark.parametrize("provider", sorted(PROVIDERS), indirect=True)
def test_a_soft_bounce_is_only_counted(client, provider):
    message = MessageFactory()
    post(client, provider, PROVIDERS[provider]("soft", message, "452 4.2.2 Mailbox full"))
    assert Contact.objects.get(pk=message.contact_id).email_status == "valid"
    assert MessageEvent.objects.get().detail == "soft"


@pytest.mark.parametrize("provider", sorted(PROVIDERS), indirect=True)
def test_a_complaint_suppresses_the_address_for_that_sender(client, provider):
    sender = ClientFactory()
    message = MessageFactory(campaign__client=sender)
    assert post(client, provider, PROVIDERS[provider]("complained", message)).status_code == 200
    assert not may_contact(email=message.contact.email, client=sender)
    assert may_contact(email=message.contact.email)
    assert Suppression.objects.get().reason == "complaint"


@pytest.mark.parametrize("provider", ["mailgun", "sparkpost"], indirect=True)
def test_a_policy_rejection_leaves_the_address_alone(client, provider):
    message = MessageFactory()
    reason = "550 5.7.1 Our system has detected that this message is likely unsolicited mail"
    kind = "policy" if provider == "sparkpost" else "hard"
    post(client, provider, PROVIDERS[provider](kind, message, reason))
    assert Contact.objects.get(pk=message.contact_id).email_status == "valid"
    assert MessageEvent.objects.get().detail == "policy"


def test_a_signed_provider_needs_no_basic_auth_secret(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = "mailgun"
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    message = MessageFactory()
    body = json.dumps(mailgun_body("delivered", message))
    assert client.post(URL, body, content_type="application/json").status_code == 200
    assert MessageEvent.objects.get().kind == "delivered"


def test_an_unsubscribe_at_the_provider_is_an_opt_out(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = "mailgun"
    sender = ClientFactory()
    message = MessageFactory(campaign__client=sender)
    post(client, "mailgun", mailgun_body("unsubscribed", message))
    assert not may_contact(email=message.contact.email, client=sender)
    assert Suppression.objects.get().reason == "unsubscribe"
    assert MessageEvent.objects.get().kind == "unsubscribed"


def test_mandrills_signed_form_post_is_read(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = "mandrill"
    message = MessageFactory()
    events = [
        {
            "event": "hard_bounce",
            "_id": secrets.token_hex(8),
            "ts": int(time.time()),
            "msg": {
                "_id": secrets.token_hex(8),
                "email": message.contact.email,
                "state": "bounced",
                "diag": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
                "metadata": {"crm_message": message.token},
            },
        }
    ]
    params = {"mandrill_events": json.dumps(events)}
    signed = MANDRILL_URL + "".join(k + params[k] for k in sorted(params))
    signature = base64.b64encode(
        hmac.new(MANDRILL_KEY.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()
    response = client.post(URL, params, HTTP_X_MANDRILL_SIGNATURE=signature, **basic_auth())
    assert response.status_code == 200, response.content
    assert Contact.objects.get(pk=message.contact_id).email_status == "bounced"
    forged = client.post(URL, params, HTTP_X_MANDRILL_SIGNATURE="AAAA", **basic_auth())
    assert forged.status_code == 403


def test_a_message_matched_by_its_message_id_when_the_provider_drops_custom_data(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = "brevo"
    message = MessageFactory()
    body = brevo_body("hard", message, "550 5.1.1 user unknown")
    del body["X-Mailin-custom"]
    body["message-id"] = f"<{message.token}@{settings.SITE_DOMAIN}>"
    post(client, "brevo", body)
    assert MessageEvent.objects.get().message == message


# Bad input: 4xx, never 500, and nothing recorded. ------------------------------------------------


def assert_nothing_recorded(message):
    assert MessageEvent.objects.count() == 0
    assert Contact.objects.get(pk=message.contact_id).email_status == "valid"


@pytest.mark.parametrize(
    "forgery", ["wrong key", "no signature", "not json", "not an object", "no key set"]
)
def test_a_forged_mailgun_request_is_refused(client, settings, forgery):
    settings.EMAIL_WEBHOOK_PROVIDER = "mailgun"
    message = MessageFactory()
    body = mailgun_body("hard", message, "550 5.1.1 user unknown")
    if forgery == "wrong key":
        body = mailgun_body("hard", message, "550 5.1.1 user unknown", key="guessed")
    elif forgery == "no signature":
        del body["signature"]
    elif forgery == "no key set":
        settings.ANYMAIL = {}
    if forgery == "not json":
        response = client.post(URL, "failed", content_type="application/json")
    elif forgery == "not an object":
        response = client.post(URL, "[1]", content_type="application/json")
    else:
        response = post(client, "mailgun", body)
    assert response.status_code in (400, 403)
    assert_nothing_recorded(message)


@pytest.mark.parametrize(
    "shape",
    ["event-data a list", "message a string", "huge timestamp", "event-data missing"],
)
def test_a_signed_mailgun_request_of_an_unexpected_shape_answers_400(client, settings, shape):
    settings.EMAIL_WEBHOOK_PROVIDER = "mailgun"
    message = MessageFactory()
    body = mailgun_body("hard", message, "550 5.1.1 user unknown")
    if shape == "event-data a list":
        body["event-data"] = [1, 2]
    elif shape == "message a string":
        body["event-data"]["message"] = "headers"
    elif shape == "huge timestamp":
        body["event-data"]["timestamp"] = 10**20
    else:
        del body["event-data"]
    response = post(client, "mailgun", body)
    assert response.status_code == 400
    assert_nothing_recorded(message)


@pytest.mark.parametrize("provider", ["postmark", "sendgrid", "mailjet", "brevo", "sparkpost"])
def test_an_unsigned_provider_without_the_right_secret_is_refused(client, settings, provider):
    settings.EMAIL_WEBHOOK_PROVIDER = provider
    message = MessageFactory()
    body = PROVIDERS[provider]("hard", message, "550 5.1.1 user unknown")
    wrong = client.post(
        URL, json.dumps(body), content_type="application/json", **basic_auth("crm:guessed")
    )
    missing = client.post(URL, json.dumps(body), content_type="application/json")
    assert (wrong.status_code, missing.status_code) == (403, 403)
    settings.ANYMAIL = {}
    unconfigured = post(client, provider, body)
    assert unconfigured.status_code == 403
    assert unconfigured.content == b"The webhook secret is not configured."
    assert_nothing_recorded(message)


UNREADABLE = {
    "postmark": [1],
    "sendgrid": {"event": "bounce"},
    "mailjet": {"unexpected": [1, {"shape": None}]},
    "brevo": [1],
    "sparkpost": [{"msys": []}],
}


@pytest.mark.parametrize("provider", sorted(UNREADABLE))
def test_a_payload_the_providers_parser_cannot_read_answers_400(client, settings, provider):
    settings.EMAIL_WEBHOOK_PROVIDER = provider
    message = MessageFactory()
    response = post(client, provider, UNREADABLE[provider])
    assert response.status_code == 400
    assert_nothing_recorded(message)


def test_a_batch_with_one_unreadable_event_records_none_of_them(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = "sendgrid"
    message = MessageFactory()
    [good] = sendgrid_body("hard", message, "550 5.1.1 user unknown")
    broken = {**good, "timestamp": {"not": "a number"}}
    assert post(client, "sendgrid", [good, broken]).status_code == 400
    assert_nothing_recorded(message)
    # The provider's retry of the good event alone is then recorded, once.
    assert post(client, "sendgrid", [good]).status_code == 200
    assert post(client, "sendgrid", [good]).status_code == 200
    assert MessageEvent.objects.filter(message=message, detail="hard").count() == 1


def test_an_event_type_the_crm_does_not_read_is_acknowledged_and_ignored(client, settings):
    # Answering 4xx would make the provider retry it for days.
    settings.EMAIL_WEBHOOK_PROVIDER = "postmark"
    message = MessageFactory()
    body = {
        "RecordType": "SomethingNew",
        "MessageID": "1",
        "Metadata": {"crm_message": message.token},
    }
    assert post(client, "postmark", body).status_code == 200
    assert_nothing_recorded(message)


def test_no_provider_configured_refuses_every_request(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = ""
    message = MessageFactory()
    response = post(client, "mailgun", mailgun_body("hard", message, "user unknown"))
    assert response.status_code == 403
    assert_nothing_recorded(message)


def test_an_event_for_a_message_not_ours_records_nothing(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = "mailgun"
    stranger = MessageFactory.build(token=secrets.token_urlsafe(32))
    response = post(client, "mailgun", mailgun_body("hard", stranger, "550 5.1.1 user unknown"))
    assert response.status_code == 200
    assert MessageEvent.objects.count() == 0
