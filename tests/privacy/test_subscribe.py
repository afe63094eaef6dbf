"""Subscribe with double opt-in, end to end through the public pages and the outbox."""

import time

import pytest
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import app as celery_app
from core.models import AuditEvent
from crm.models import Contact, Source, Suppression
from crm.suppression import may_contact, suppress
from privacy.consent.ledger import consent_states
from privacy.consent.preferences import unsubscribe
from privacy.consent.subscriptions import CONFIRMATION_TASK
from privacy.models import ConsentEvent, ConsentState
from privacy.tasks import send_subscription_confirmation
from tests.privacy.factories import ClientFactory, ContactFactory, PurposeFactory, grant
from tests.privacy.pages import checkboxes, field_error, heading, link_in, tags, text
from tests.privacy.subscription_steps import mail_confirmations, queued_confirmations

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def stored() -> dict[str, int]:
    """Count every row the subscription flow could write."""
    return {
        "contacts": Contact.objects.count(),
        "events": ConsentEvent.objects.count(),
        "states": ConsentState.objects.count(),
        "active suppressions": Suppression.objects.filter(lifted_at__isnull=True).count(),
        "audit": AuditEvent.objects.count(),
    }


def subscribe(client, email: str, *purposes, name: str = ""):
    """Fill in the form, then let the worker send the mail it queued."""
    response = client.post(
        "/subscribe/", {"email": email, "name": name, "purposes": [p.code for p in purposes]}
    )
    mail_confirmations()
    return response


def confirmation_link(client, email: str, *purposes, name: str = "") -> str:
    """Fill in the form and return the path of the link the confirmation e-mail carries."""
    response = subscribe(client, email, *purposes, name=name)
    assert response.status_code == 302
    return link_in(mail.outbox[-1].body)


def test_the_form_shows_one_unticked_box_per_consent_purpose_and_the_notice_version(
    client, newsletter, offers, notice
):
    contract = PurposeFactory(legal_basis="contract", consent_text="")

    page = client.get("/subscribe/")

    assert page.status_code == 200
    boxes = checkboxes(page)
    assert boxes[newsletter.code] is False
    assert boxes[offers.code] is False
    assert not any(boxes.values())
    assert contract.code not in boxes
    assert newsletter.consent_text in text(page)
    assert f"version {notice.version}" in text(page)


def test_every_address_gets_the_same_answer_and_nothing_is_stored_before_the_click(
    client, newsletter, notice
):
    subscriber = ContactFactory(email="pieter.smit@example.org")
    grant(subscriber, newsletter)
    suppress(email="gone.away@example.net", reason=Suppression.Reason.UNSUBSCRIBE)
    addresses = ["new.reader@example.org", "pieter.smit@example.org", "gone.away@example.net"]
    before = stored()

    answers, queries, queued = [], [], []
    for address in addresses:
        with CaptureQueriesContext(connection) as form_queries:
            response = client.post("/subscribe/", {"email": address, "purposes": [newsletter.code]})
        queries.append(len(form_queries))
        queued.append([row.task for row in queued_confirmations()])
        mail_confirmations()
        page = client.get(response["Location"])
        answers.append((response.status_code, response["Location"], page.status_code, page.content))

    assert answers[0] == answers[1] == answers[2]
    # The same work for every address: no lookup, no mail sent from the web request.
    assert queries[0] == queries[1] == queries[2]
    assert queued == [["privacy.tasks.send_subscription_confirmation"]] * 3
    assert answers[0][:3] == (302, "/subscribe/sent/", 200)
    assert "Check your inbox" in answers[0][3].decode()
    assert stored() == before
    assert not Contact.objects.filter(email="new.reader@example.org").exists()
    assert [message.to for message in mail.outbox] == [[address] for address in addresses]


def test_the_mail_carries_the_link_and_only_the_click_grants_consent_with_its_proof(
    client, newsletter, offers, notice
):
    before = stored()
    subscribe(client, "  Mara.Visser@Example.org ", newsletter, offers, name="Mara Visser")

    (message,) = mail.outbox
    assert message.to == ["mara.visser@example.org"]
    path = link_in(message.body)
    assert path.startswith("/subscribe/confirm/")
    html, _ = message.alternatives[0]
    assert path in html
    assert newsletter.consent_text in message.body

    page = client.get(path)
    assert page.status_code == 200
    assert [b.get("type") for b in tags(page, "button")] == ["submit"]
    assert "Yes, confirm my subscription" in text(page)
    assert stored() == before

    done = client.post(path, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.10")

    assert done.status_code == 200
    assert heading(done) == "Thank you, you are subscribed"
    assert newsletter.consent_text in text(done)
    contact = Contact.objects.get(email="mara.visser@example.org")
    assert (contact.first_name, contact.last_name) == ("Mara", "Visser")
    assert contact.relationship == Contact.Relationship.SUBSCRIBER
    assert contact.last_activity_at is not None
    provenance = contact.provenance.get()
    assert provenance.source.kind == Source.Kind.WEB_FORM
    assert provenance.source.name == "Subscription form"
    assert provenance.reference == "/subscribe/"
    events = {e.purpose: e for e in ConsentEvent.objects.filter(contact=contact)}
    assert set(events) == {newsletter, offers}
    for purpose, event in events.items():
        assert event.action == ConsentEvent.Action.GRANT
        assert event.channel == ConsentEvent.Channel.DOUBLE_OPT_IN
        assert event.wording == purpose.consent_text
        assert event.notice_version == notice
        assert event.user_agent == BROWSER
        assert event.ip_address is None  # CONSENT_RECORD_IP is off by default
    assert consent_states(contact) == {newsletter.code: "grant", offers.code: "grant"}


def test_the_ip_address_is_kept_only_when_the_setting_says_so(client, settings, newsletter):
    settings.CONSENT_RECORD_IP = True
    path = confirmation_link(client, "ines.bakker@example.org", newsletter)

    client.post(path, REMOTE_ADDR="192.0.2.10")

    assert ConsentEvent.objects.get().ip_address == "192.0.2.10"


def test_a_second_click_on_the_same_link_records_nothing_and_says_so(client, newsletter, notice):
    path = confirmation_link(client, "joris.mulder@example.org", newsletter)
    client.post(path)
    before = stored()

    again = client.post(path)

    assert again.status_code == 200
    assert heading(again) == "Already confirmed"
    assert stored() == before
    assert ConsentEvent.objects.count() == 1


def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client, newsletter):
    path = confirmation_link(client, "sanne.dekker@example.org", newsletter)
    token = path.split("/")[-2]
    tampered = path.replace(token, token[:-3] + ("xyz" if token[-3:] != "xyz" else "abc"))
    before = stored()

    for response in (client.get(tampered), client.post(tampered)):
        assert response.status_code == 400
        assert heading(response) == "This link does not work"
        assert "Nothing was changed" in text(response)
    assert stored() == before


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(
    client, settings, monkeypatch, newsletter
):
    with monkeypatch.context() as past:
        # Sign the link as if the form had been filled in, and the mail sent, an hour ago.
        past.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(int(time.time()) - 3600),
        )
        path = confirmation_link(client, "daan.vos@example.org", newsletter)
    settings.SUBSCRIBE_LINK_MAX_AGE = 60
    before = stored()

    for response in (client.get(path), client.post(path)):
        assert response.status_code == 400
        assert heading(response) == "This link has expired"
        assert "Nothing was changed" in text(response)
    assert stored() == before


def test_a_suppressed_address_comes_back_only_by_the_click_which_lifts_the_global_suppression(
    client, newsletter
):
    contact = ContactFactory(email="lotte.peeters@example.net")
    grant(contact, newsletter)
    acme = ClientFactory(name="Acme Tiles")
    unsubscribe(contact=contact, client=acme, channel=ConsentEvent.Channel.UNSUBSCRIBE_LINK)
    unsubscribe(contact=contact, client=None, channel=ConsentEvent.Channel.UNSUBSCRIBE_LINK)
    path = confirmation_link(client, contact.email, newsletter)
    assert not may_contact(email=contact.email)

    client.post(path)

    everyone = Suppression.objects.get(client__isnull=True)
    assert everyone.lifted_at is not None
    assert "double opt-in" in everyone.lift_reason
    assert Suppression.objects.get(client=acme).lifted_at is None
    assert may_contact(email=contact.email)
    assert not may_contact(email=contact.email, client=acme)
    assert consent_states(contact) == {newsletter.code: "grant"}
    assert Contact.objects.count() == 1
    assert AuditEvent.objects.filter(
        object_id=str(contact.pk), details__suppression_lifted=True
    ).exists()


def test_no_box_ticked_shows_the_error_next_to_the_boxes_and_sends_nothing(client, newsletter):
    response = client.post("/subscribe/", {"email": "emma.hendriks@example.org"})

    assert response.status_code == 200
    assert field_error(response, "purposes") == "Tick at least one box to subscribe."
    assert field_error(response, "email") == ""
    assert not queued_confirmations()
    assert mail.outbox == []


def test_an_invalid_address_shows_the_error_next_to_the_field_and_sends_nothing(client, newsletter):
    response = subscribe(client, "emma.hendriks@", newsletter)

    assert response.status_code == 200
    assert "Enter a valid e-mail address" in field_error(response, "email")
    assert not queued_confirmations()
    assert mail.outbox == []
    assert not Contact.objects.exists()


def test_wording_changed_between_the_form_and_the_click_records_nothing(client, newsletter):
    path = confirmation_link(client, "bram.jacobs@example.org", newsletter)
    newsletter.consent_text = "Yes, send me the weekly letter and partner news."
    newsletter.save()
    before = stored()

    response = client.post(path)

    assert response.status_code == 409
    assert heading(response) == "The offer has changed"
    assert stored() == before


def test_a_purpose_retired_between_the_form_and_the_click_records_nothing(client, newsletter):
    path = confirmation_link(client, "fenna.kok@example.org", newsletter)
    newsletter.is_active = False
    newsletter.save()
    before = stored()

    response = client.post(path)

    assert response.status_code == 409
    assert heading(response) == "The offer has changed"
    assert stored() == before


def test_the_form_sends_no_mail_itself_and_queues_only_the_signed_link(client, newsletter):
    client.post("/subscribe/", {"email": "noor.bos@example.org", "purposes": [newsletter.code]})

    assert mail.outbox == []
    (row,) = queued_confirmations()
    (token,) = row.args
    assert row.kwargs == {}
    mail_confirmations()
    (message,) = mail.outbox
    assert link_in(message.body) == f"/subscribe/confirm/{token}/"
    assert not queued_confirmations()


def test_a_confirmation_queued_longer_than_a_link_lives_is_not_mailed(
    client, settings, monkeypatch, newsletter
):
    with monkeypatch.context() as past:
        # The form was filled in an hour ago, and the broker has been away since.
        past.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(int(time.time()) - 3600),
        )
        client.post("/subscribe/", {"email": "noor.bos@example.org", "purposes": [newsletter.code]})
    settings.SUBSCRIBE_LINK_MAX_AGE = 60

    assert mail_confirmations() == 1
    assert mail.outbox == []


def test_the_confirmation_mail_is_routed_to_the_queue_people_wait_for():
    route = celery_app.amqp.router.route({}, send_subscription_confirmation.name)

    assert route["queue"].name == "default"
    assert send_subscription_confirmation.name == CONFIRMATION_TASK
