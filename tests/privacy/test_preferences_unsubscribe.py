"""The preference centre and the one-click unsubscribe link, through the public pages."""

import pytest
from django.core import mail
from django.test import Client

from core.models import AuditEvent
from crm.models import Source, Suppression
from crm.suppression import may_contact
from privacy.consent.ledger import consent_states
from privacy.links import preferences_url, unsubscribe_token, unsubscribe_url
from privacy.models import ConsentEvent
from tests.crm.factories import ContactSourceFactory
from tests.privacy.factories import ClientFactory, ContactFactory, grant
from tests.privacy.pages import checkboxes, heading, hidden_value, link_in, site_path, tags, text
from tests.privacy.subscription_steps import mail_confirmations

pytestmark = pytest.mark.django_db


def ledger() -> dict[str, int]:
    """Count what an opt-out could write."""
    return {
        "events": ConsentEvent.objects.count(),
        "suppressions": Suppression.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def last_event(contact, purpose) -> ConsentEvent:
    return ConsentEvent.objects.filter(contact=contact, purpose=purpose).first()


@pytest.fixture
def reader(newsletter, offers):
    """A subscriber who agreed to both letters."""
    contact = ContactFactory(email="noor.dijkstra@example.org")
    grant(contact, newsletter)
    grant(contact, offers)
    return contact


# The preference centre ---------------------------------------------------------------------------


def test_the_preference_centre_shows_the_current_choices(client, newsletter, offers):
    contact = ContactFactory()
    grant(contact, newsletter)

    page = client.get(site_path(preferences_url(contact)))

    assert page.status_code == 200
    assert heading(page) == "Your e-mail preferences"
    boxes = checkboxes(page)
    assert boxes[newsletter.code] is True
    assert boxes[offers.code] is False
    assert "Unsubscribe from all e-mails" in text(page)
    assert 'href="/privacy/requests/new/"' in text(page)


def test_unticking_a_purpose_records_a_withdrawal(client, reader, newsletter, offers):
    path = site_path(preferences_url(reader))
    form = client.get(path)

    saved = client.post(
        path,
        {"nonce": hidden_value(form, "nonce"), "purposes": [offers.code]},
        HTTP_USER_AGENT="Mozilla/5.0 (Test)",
    )

    assert saved.status_code == 200
    assert "Your choices are saved." in text(saved)
    assert checkboxes(saved) == {**checkboxes(form), newsletter.code: False}
    event = last_event(reader, newsletter)
    assert event.action == ConsentEvent.Action.WITHDRAW
    assert event.channel == ConsentEvent.Channel.PREFERENCE_CENTRE
    assert event.user_agent == "Mozilla/5.0 (Test)"
    assert consent_states(reader) == {newsletter.code: "withdraw", offers.code: "grant"}


def test_the_same_form_posted_twice_records_one_event(client, reader, newsletter, offers):
    path = site_path(preferences_url(reader))
    nonce = hidden_value(client.get(path), "nonce")
    before = ConsentEvent.objects.count()

    first = client.post(path, {"nonce": nonce, "purposes": [offers.code]})
    second = client.post(path, {"nonce": nonce, "purposes": [offers.code]})

    assert "Your choices are saved." in text(first)
    assert "Your choices are saved." in text(second)
    assert ConsentEvent.objects.count() == before + 1
    assert consent_states(reader)[newsletter.code] == "withdraw"


def test_ticking_a_purpose_back_on_records_a_grant_with_its_wording(client, newsletter):
    contact = ContactFactory()
    path = site_path(preferences_url(contact))

    client.post(
        path, {"nonce": hidden_value(client.get(path), "nonce"), "purposes": [newsletter.code]}
    )

    event = last_event(contact, newsletter)
    assert event.action == ConsentEvent.Action.GRANT
    assert event.wording == newsletter.consent_text
    assert event.channel == ConsentEvent.Channel.PREFERENCE_CENTRE


def test_stopping_one_clients_mails_suppresses_only_for_that_client(client, reader):
    acme = ClientFactory(name="Acme Tiles")
    other = ClientFactory(name="Bolt Bikes")
    ClientFactory(name="Unrelated Travel")  # never supplied this person: not shown to them
    for supplier in (acme, other):
        ContactSourceFactory(
            contact=reader, source__kind=Source.Kind.CLIENT_LIST, source__client=supplier
        )
    path = site_path(preferences_url(reader))
    states = consent_states(reader)

    done = client.post(path, {"unsubscribe_client": str(acme.pk)})

    assert done.status_code == 200
    assert heading(done) == "You are unsubscribed"
    assert "You will no longer receive e-mails we send for Acme Tiles." in text(done)
    suppression = Suppression.objects.get()
    assert suppression.client == acme
    assert suppression.reason == Suppression.Reason.UNSUBSCRIBE
    assert not may_contact(email=reader.email, client=acme)
    assert may_contact(email=reader.email, client=other)
    assert may_contact(email=reader.email)
    assert consent_states(reader) == states
    page = client.get(path)
    assert "You no longer receive e-mails for: Acme Tiles" in text(page)
    assert [b["value"] for b in tags(page, "button") if b.get("name") == "unsubscribe_client"] == [
        str(other.pk)
    ]


def test_an_unknown_client_changes_nothing(client, reader):
    path = site_path(preferences_url(reader))
    before = ledger()

    for value in ("999999", "not-a-number"):
        assert client.post(path, {"unsubscribe_client": value}).status_code == 404
    assert ledger() == before


def test_unsubscribing_from_all_suppresses_and_withdraws_every_consent(
    client, reader, newsletter, offers
):
    done = client.post(site_path(preferences_url(reader)), {"unsubscribe_all": "1"})

    assert done.status_code == 200
    assert heading(done) == "You are unsubscribed"
    assert Suppression.objects.get().client is None
    assert not may_contact(email=reader.email)
    assert not may_contact(email=reader.email, client=ClientFactory())
    assert consent_states(reader) == {newsletter.code: "withdraw", offers.code: "withdraw"}
    for purpose in (newsletter, offers):
        assert last_event(reader, purpose).channel == ConsentEvent.Channel.PREFERENCE_CENTRE


def test_a_globally_suppressed_contact_cannot_switch_consents_back_on_there(
    client, reader, newsletter
):
    path = site_path(preferences_url(reader))
    nonce = hidden_value(client.get(path), "nonce")
    client.post(path, {"unsubscribe_all": "1"})
    before = ledger()

    page = client.get(path)
    assert "subscribe anew and confirm by e-mail" in text(page)
    assert checkboxes(page) == {}
    client.post(path, {"nonce": nonce, "purposes": [newsletter.code]})

    assert ledger() == before
    assert consent_states(reader)[newsletter.code] == "withdraw"
    assert not may_contact(email=reader.email)


@pytest.mark.parametrize("kind", ["tampered", "unsubscribe token"])
def test_a_bad_preference_link_gets_a_clear_page_and_changes_nothing(client, reader, kind):
    good = site_path(preferences_url(reader))
    if kind == "tampered":
        path = good[:-3] + ("xy/" if good[-3:] != "xy/" else "zw/")
    else:  # a token of another kind never works here
        path = f"/preferences/{unsubscribe_token(reader)}/"
    before = ledger()

    for response in (client.get(path), client.post(path, {"unsubscribe_all": "1"})):
        assert response.status_code == 400
        assert heading(response) == "This link does not work"
    assert ledger() == before
    assert may_contact(email=reader.email)


# The unsubscribe link ----------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_shows_one_button_and_changes_nothing(client, reader):
    before = ledger()

    page = client.get(site_path(unsubscribe_url(reader)))

    assert page.status_code == 200
    assert len(tags(page, "button")) == 1
    assert "You will no longer receive any of our newsletters or campaigns" in text(page)
    assert ledger() == before
    assert may_contact(email=reader.email)


def test_the_button_unsubscribes_from_everything(client, reader, newsletter, offers):
    done = client.post(site_path(unsubscribe_url(reader)), HTTP_USER_AGENT="Mail/1.0")

    assert done.status_code == 200
    assert heading(done) == "You are unsubscribed"
    assert not may_contact(email=reader.email)
    assert consent_states(reader) == {newsletter.code: "withdraw", offers.code: "withdraw"}
    event = last_event(reader, newsletter)
    assert event.channel == ConsentEvent.Channel.UNSUBSCRIBE_LINK
    assert event.user_agent == "Mail/1.0"


def test_one_click_unsubscribe_works_without_cookies_or_csrf_token(reader, newsletter, offers):
    mail_client = Client(enforce_csrf_checks=True)

    response = mail_client.post(
        site_path(unsubscribe_url(reader)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not may_contact(email=reader.email)
    assert consent_states(reader) == {newsletter.code: "withdraw", offers.code: "withdraw"}


def test_unsubscribing_again_is_harmless(client, reader):
    path = site_path(unsubscribe_url(reader))
    one_click = Client(enforce_csrf_checks=True)

    client.post(path)
    again = client.post(path)
    response = one_click.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert heading(again) == "You are unsubscribed"
    assert response.status_code == 200
    assert Suppression.objects.count() == 1
    assert ConsentEvent.objects.filter(action=ConsentEvent.Action.WITHDRAW).count() == 2
    assert ConsentEvent.objects.count() == 4  # two grants, each withdrawn once


def test_a_clients_unsubscribe_link_suppresses_only_for_that_client(client, reader):
    acme = ClientFactory(name="Acme Tiles")
    states = consent_states(reader)

    page = client.get(site_path(unsubscribe_url(reader, acme)))
    done = client.post(site_path(unsubscribe_url(reader, acme)))

    assert "for Acme Tiles" in text(page)
    assert "You will no longer receive e-mails we send for Acme Tiles." in text(done)
    assert not may_contact(email=reader.email, client=acme)
    assert may_contact(email=reader.email)
    assert consent_states(reader) == states


def test_a_link_for_an_erased_contact_answers_unsubscribed_without_error(client, reader):
    path = site_path(unsubscribe_url(reader))
    reader.delete()

    for response in (
        client.get(path),
        client.post(path),
        Client(enforce_csrf_checks=True).post(
            path,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        ),
    ):
        assert response.status_code == 200
        assert heading(response) == "You are unsubscribed"
    assert not Suppression.objects.exists()


def test_a_tampered_unsubscribe_link_gets_a_clear_page_and_changes_nothing(client, reader):
    path = site_path(unsubscribe_url(reader))
    tampered = path[:-3] + ("xy/" if path[-3:] != "xy/" else "zw/")
    before = ledger()

    response = client.post(tampered)

    assert response.status_code == 400
    assert heading(response) == "This link does not work"
    assert ledger() == before


def test_an_old_unsubscribe_link_still_withdraws_consents_given_after_it_was_used(
    client, reader, newsletter, offers
):
    path = site_path(unsubscribe_url(reader))
    client.post(path)
    # The person subscribes again by double opt-in, then uses the link of an old e-mail.
    client.post("/subscribe/", {"email": reader.email, "purposes": [newsletter.code]})
    mail_confirmations()
    client.post(link_in(mail.outbox[-1].body))
    assert consent_states(reader)[newsletter.code] == "grant"

    client.post(path)

    assert not may_contact(email=reader.email)
    assert consent_states(reader) == {newsletter.code: "withdraw", offers.code: "withdraw"}


def test_changing_your_mind_on_the_same_page_is_recorded(client, reader, newsletter, offers):
    path = site_path(preferences_url(reader))
    nonce = hidden_value(client.get(path), "nonce")
    client.post(path, {"nonce": nonce, "purposes": [offers.code]})

    # Back in the browser, the box ticked again and the same page sent; then off once more.
    on = client.post(path, {"nonce": nonce, "purposes": [newsletter.code, offers.code]})
    on_state = consent_states(reader)
    off = client.post(path, {"nonce": nonce, "purposes": [offers.code]})

    assert checkboxes(on)[newsletter.code] is True
    assert on_state == {newsletter.code: "grant", offers.code: "grant"}
    assert checkboxes(off)[newsletter.code] is False
    assert consent_states(reader) == {newsletter.code: "withdraw", offers.code: "grant"}
    assert ConsentEvent.objects.filter(contact=reader, purpose=newsletter).count() == 4


def test_links_already_mailed_keep_their_signature():
    """The salts are part of every link mailed so far: changing one breaks them all."""
    from privacy import links

    assert {
        links.SUBSCRIBE_SALT,
        links.PREFERENCES_SALT,
        links.UNSUBSCRIBE_SALT,
        links.VERIFY_SALT,
        links.STATUS_SALT,
        links.DOWNLOAD_SALT,
    } == {
        "privacy.subscribe",
        "privacy.preferences",
        "privacy.unsubscribe",
        "privacy.request-verify",
        "privacy.request-status",
        "privacy.export-download",
    }
