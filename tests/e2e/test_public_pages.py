"""The public pages as people meet them in a browser: subscribe, preferences, unsubscribe.

Each page is checked by axe-core; forms are filled by keyboard where the flow allows it.
"""

import re

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from config.celery import app as celery_app
from crm.models import Contact
from privacy.consent.ledger import consent_states
from privacy.consent.preferences import is_globally_suppressed
from privacy.links import preferences_url, unsubscribe_url
from privacy.models import ConsentEvent, Purpose
from tests.conftest import drop_queued_tasks
from tests.e2e.conftest import (
    assert_accessible,
    assert_keyboard_reaches_every_control,
    link_in_mail,
    screenshot,
)
from tests.privacy.factories import ContactFactory, NoticeVersionFactory, PurposeFactory, grant
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def offer(db):
    """What the subscription form offers: a newsletter and partner offers, under a notice."""
    # The purposes seeded by migration are still there before the first flush: retire them.
    Purpose.objects.update(is_active=False)
    NoticeVersionFactory()
    return (
        PurposeFactory(code="weekly_letter", name="Weekly letter"),
        PurposeFactory(code="partner_offers", name="Partner offers"),
    )


@pytest.mark.celery_worker
def test_a_dutch_visitor_subscribes_by_keyboard_and_confirms_from_the_mail(visitor_factory, offer):
    visitor = visitor_factory("nl-NL")
    page = visitor.open("/subscribe/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert visitor.heading() == "Aanmelden"
    assert_accessible(page)
    screenshot(page, "subscribe-form")

    # The first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_email"
    page.keyboard.type("Femke.de.Vries@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("Femke")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    # On past the second box and the privacy statement link, to the button.
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    assert page.evaluate("document.activeElement.textContent") == "Aanmelden"
    # The confirmation mail leaves from the worker, which takes it from the broker; nothing
    # queued while the browser worked through the form may run beside it.
    drop_queued_tasks()
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=30
    ):
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/subscribe/sent/"), timeout=30_000)
        assert visitor.heading() == "Kijk in uw inbox"
        assert_accessible(page)
        (message,) = wait_for(lambda: list(mail.outbox))
    assert message.subject == "Bevestig uw aanmelding"
    assert message.body.startswith("Beste Femke,")
    page = visitor.open(link_in_mail(message.body, "/subscribe/confirm/"))
    assert visitor.heading() == "Bevestig uw aanmelding"
    assert_accessible(page)
    page.get_by_role("button", name="Ja, bevestig mijn aanmelding").click()
    assert visitor.heading() == "Dank u, u bent aangemeld"
    assert_accessible(page)

    contact = Contact.objects.get(email="femke.de.vries@example.org")
    assert contact.language == "nl"
    assert consent_states(contact) == {"partner_offers": ConsentEvent.Action.GRANT}


def test_errors_are_announced_and_tied_to_their_field_in_romanian(visitor_factory, offer):
    visitor = visitor_factory("ro-RO")
    page = visitor.open("/subscribe/")
    page.get_by_label("Adresă de e-mail").fill("femke@")
    page.get_by_role("button", name="Abonare").click()

    summary = page.get_by_role("alert")
    assert "Vă rugăm să corectați următoarele:" in summary.inner_text()
    email = page.locator("#id_email")
    assert email.get_attribute("aria-invalid") == "true"
    error_id = email.get_attribute("aria-describedby")
    assert "Introduceți o adresă de e-mail validă" in page.locator(f"#{error_id}").inner_text()
    boxes = page.locator("fieldset")
    assert (
        "Bifați cel puțin o căsuță"
        in page.locator(f"#{boxes.get_attribute('aria-describedby')}").inner_text()
    )
    # The summary links to the field it names.
    summary.get_by_role("link", name="Adresă de e-mail").click()
    assert page.evaluate("document.activeElement.id") == "id_email"
    assert_accessible(page)
    assert not mail.outbox


def test_the_preference_centre_speaks_the_contacts_language_and_saves_choices(
    visitor_factory, offer
):
    newsletter, partner_offers = offer
    contact = ContactFactory(email="ioana.popescu@example.org", language="ro")
    grant(contact, newsletter)
    visitor = visitor_factory("en-GB")

    page = visitor.open(preferences_url(contact))
    assert page.locator("html").get_attribute("lang") == "ro"
    assert visitor.heading() == "Preferințele dumneavoastră de e-mail"
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)
    screenshot(page, "preference-centre")

    page.get_by_label(partner_offers.consent_text).check()
    page.get_by_label(newsletter.consent_text).uncheck()
    page.get_by_role("button", name="Salvați alegerile").click()
    assert page.get_by_role("status").inner_text() == "Alegerile dumneavoastră au fost salvate."
    assert consent_states(contact) == {
        "weekly_letter": ConsentEvent.Action.WITHDRAW,
        "partner_offers": ConsentEvent.Action.GRANT,
    }

    # The switcher wins over the contact's language, on this page and the next ones.
    page.get_by_label("Limba").select_option("en")
    page.get_by_role("button", name="Schimbați limba").click()
    assert visitor.heading() == "Your e-mail preferences"
    assert page.get_by_label(partner_offers.consent_text).is_checked()


def test_one_click_unsubscribe_from_the_mail_client_and_from_the_page(visitor_factory, offer):
    newsletter, _ = offer
    by_mail_client = ContactFactory(email="bram.smit@example.org", language="nl")
    by_browser = ContactFactory(email="lotte.visser@example.org", language="nl")
    grant(by_mail_client, newsletter)
    grant(by_browser, newsletter)
    visitor = visitor_factory("en-GB")

    # RFC 8058: the mail client posts the one-click body, without cookies or a page.
    answer = visitor.page.request.post(
        unsubscribe_url(by_mail_client), form={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status == 200
    assert is_globally_suppressed(by_mail_client)

    page = visitor.open(unsubscribe_url(by_browser))
    assert visitor.heading() == "Afmelden"
    assert not is_globally_suppressed(by_browser)
    assert_accessible(page)
    page.get_by_role("button", name="Afmelden").click()
    assert visitor.heading() == "U bent afgemeld"
    assert_accessible(page)
    assert is_globally_suppressed(by_browser)
    assert consent_states(by_browser) == {"weekly_letter": ConsentEvent.Action.WITHDRAW}


@pytest.mark.parametrize(
    ("path", "locale", "title"),
    [
        ("/", "ro-RO", "Datele dumneavoastră, alegerea dumneavoastră"),
        ("/privacy/", "nl-NL", "Privacyverklaring"),  # the statement is kept per language
        ("/contact/", "nl-NL", "Contact opnemen"),
        ("/privacy/requests/new/", "en-GB", "Ask about your personal data"),
    ],
)
def test_every_other_public_page_is_accessible_in_the_browsers_language(
    visitor_factory, offer, path, locale, title
):
    visitor = visitor_factory(locale)
    page = visitor.open(path)
    assert page.locator("html").get_attribute("lang") == locale[:2]
    assert visitor.heading() == title
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)


def test_the_not_found_page_is_accessible_and_translated(visitor_factory):
    visitor = visitor_factory("ro-RO")
    response = visitor.page.goto(f"{visitor.base_url}/no-such-page/")

    assert response.status == 404
    assert visitor.heading() == "Pagina nu a fost găsită"
    assert_accessible(visitor.page)
