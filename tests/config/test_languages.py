"""Three languages: complete catalogues, and the rules that pick the language of a page or mail."""

import re
from types import SimpleNamespace

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

from tests.privacy.factories import ContactFactory, NoticeVersionFactory, PurposeFactory
from tests.privacy.subscription_steps import mail_confirmations

TRANSLATED = ("nl", "ro")
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|<[^>]+>")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.po"))


def test_settings_offer_english_dutch_and_romanian():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "nl", "ro"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(language):
    po = catalogue(language)

    assert len(po) > 200
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()
    assert not po.obsolete_entries()
    for entry in po:
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(entry.msgid)), (
                entry.msgid
            )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_file_is_the_compiled_po_file(language):
    po = catalogue(language)
    mo = polib.mofile(str(settings.BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.mo"))

    def messages(entries):
        return {
            (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in entries
            if e.msgid
        }

    assert messages(mo) == messages(po.translated_entries())
    assert mo.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]


def heading(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def test_public_pages_follow_the_browsers_language(client):
    dutch = client.get("/", HTTP_ACCEPT_LANGUAGE="nl-BE,nl;q=0.9,en;q=0.5")
    romanian = client.get("/", HTTP_ACCEPT_LANGUAGE="ro")
    other = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE")

    assert heading(dutch) == "Uw gegevens, uw keuze"
    assert '<html lang="nl">' in dutch.content.decode()
    assert heading(romanian) == "Datele dumneavoastră, alegerea dumneavoastră"
    assert heading(other) == "Your data, your choice"


@pytest.mark.django_db
def test_the_switcher_sets_the_language_of_the_next_pages(client):
    switched = client.post("/i18n/setlang/", {"language": "ro", "next": "/subscribe/"})

    assert switched.status_code == 302
    assert switched["Location"] == "/subscribe/"
    assert heading(client.get("/subscribe/", HTTP_ACCEPT_LANGUAGE="nl")) == "Abonare"


@pytest.mark.django_db
def test_staff_pages_stay_in_english_whatever_the_browser_asks(client):
    login = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="nl")

    assert "Log in" in login.content.decode()
    assert "Inloggen" not in login.content.decode()
    assert '<html lang="en"' in login.content.decode()


@pytest.mark.django_db
def test_a_subscription_confirmation_goes_out_in_the_language_of_the_form(client):
    NoticeVersionFactory()
    purpose = PurposeFactory()

    client.post(
        "/subscribe/",
        {"email": "radu.ionescu@example.org", "name": "Radu", "purposes": [purpose.code]},
        HTTP_ACCEPT_LANGUAGE="ro",
    )
    mail_confirmations()

    (message,) = mail.outbox
    assert message.subject == "Vă rugăm să confirmați abonarea"
    assert message.body.startswith("Bună ziua, Radu,")
    html = message.alternatives[0][0]
    assert '<html lang="ro">' in html
    assert "Nu se întâmplă nimic dacă nu confirmați." in html


@pytest.mark.django_db
def test_a_page_reached_by_a_personal_link_speaks_the_contacts_language(client):
    from privacy.links import preferences_url

    contact = ContactFactory(language="nl")
    path = preferences_url(contact).removeprefix(settings.SITE_URL)

    assert heading(client.get(path, HTTP_ACCEPT_LANGUAGE="ro")) == "Uw e-mailvoorkeuren"
    client.post("/i18n/setlang/", {"language": "en", "next": path})
    assert heading(client.get(path, HTTP_ACCEPT_LANGUAGE="ro")) == "Your e-mail preferences"


def fake_context() -> dict:
    """A context that fills every e-mail template with neutral values."""
    thing = SimpleNamespace(
        pk=7,
        version="2030.1",
        summary_of_changes="X",
        get_kind_display=lambda: "X",
        extended_due_at=None,
        extension_reason="X",
        result="X",
        detected_at=None,
        description="X",
        data_categories="X",
        likely_consequences="X",
        measures="X",
        name="X",
        consent_text="X",
        first_name="",
    )
    source = SimpleNamespace(name="X", get_kind_display=lambda: "X", client=thing, url="")
    return {
        "request": thing,
        "notice": thing,
        "breach": thing,
        "contact": thing,
        "sources": [SimpleNamespace(source=source, collected_at=None)],
        "purposes": [
            SimpleNamespace(
                name="X", description="X", consent_text="X", get_legal_basis_display=lambda: "X"
            )
        ],
        "data": [],
        **{
            key: "X"
            for key in (
                "status_url",
                "verify_url",
                "link_minutes",
                "url",
                "name",
                "first_name",
                "site_url",
                "sender_name",
                "sender_address",
                "privacy_url",
                "request_url",
                "preferences_url",
                "contact_address",
                "notice_url",
            )
        },
    }


DATA_SUBJECT_MAILS = [
    "emails/subscribe_confirm.txt",
    "emails/subscribe_confirm.html",
    "emails/request_verify.txt",
    "emails/request_closed.txt",
    "emails/request_extended.txt",
    "emails/notice_changed.txt",
    "emails/indirect_notice.txt",
    "emails/breach_notice.txt",
]


@pytest.mark.parametrize("template", DATA_SUBJECT_MAILS)
@pytest.mark.parametrize("language", TRANSLATED)
def test_no_sentence_of_a_data_subject_mail_stays_in_english(template, language):
    with translation.override("en"):
        english = render_to_string(template, fake_context())
    with translation.override(language):
        translated = render_to_string(template, fake_context())

    sentences = [
        line.strip()
        for line in re.sub(r"<[^>]+>", "\n", english).splitlines()
        if len(re.findall(r"[A-Za-z]{3,}", line)) >= 2
    ]
    assert sentences
    assert not [s for s in sentences if s in translated]


@pytest.mark.django_db
def test_the_privacy_page_gives_legal_bases_and_the_retention_schedule_in_the_visitors_language(
    client,
):
    PurposeFactory(legal_basis="legitimate_interest")

    page = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert "Gerechtvaardigd belang (art. 6 lid 1 sub f AVG)" in page
    assert "Facturen, sinds hun vervaldatum" in page
    assert "Invoices, since their due date" not in page


@pytest.mark.django_db
def test_a_refused_form_is_explained_in_the_visitors_language():
    from django.test import Client

    from crm.models import Interaction

    strict = Client(enforce_csrf_checks=True)

    refused = strict.post(
        "/contact/", {"name": "Ana", "email": "ana@example.org"}, HTTP_ACCEPT_LANGUAGE="ro"
    )

    assert refused.status_code == 403
    assert heading(refused) == "Acest formular nu a putut fi trimis"
    assert not Interaction.objects.exists()
