"""Consent in the reader's language (art. 7(2), 12(1)): wording per language, recorded as shown."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import Contact
from privacy.consent.notices import publish_notice, send_material_change_batch
from privacy.models import ConsentEvent, NoticeVersion, ProcessingActivity, Purpose
from tests.privacy.factories import ContactFactory, NoticeVersionFactory, grant
from tests.privacy.pages import link_in, text
from tests.privacy.subscription_steps import mail_confirmations

pytestmark = pytest.mark.django_db

DUTCH_NEWSLETTER = "Ja, stuur mij de nieuwsbrief per e-mail. Ik kan mij op elk moment afmelden."


def test_a_dutch_visitor_agrees_to_the_dutch_sentence_and_the_ledger_keeps_it(client, admin_client):
    form = text(client.get("/subscribe/", HTTP_ACCEPT_LANGUAGE="nl"))
    assert DUTCH_NEWSLETTER in form
    assert "Yes, send me the newsletter" not in form

    client.post(
        "/subscribe/",
        {"email": "sanne.visser@example.org", "purposes": ["newsletter"]},
        HTTP_ACCEPT_LANGUAGE="nl",
    )
    mail_confirmations()
    (confirmation,) = mail.outbox
    assert DUTCH_NEWSLETTER in confirmation.body
    client.post(link_in(confirmation.body))

    event = ConsentEvent.objects.get(contact__email="sanne.visser@example.org")
    assert (event.wording, event.language) == (DUTCH_NEWSLETTER, "nl")
    proof = text(admin_client.get(reverse("admin:crm_contact_change", args=[event.contact_id])))
    assert DUTCH_NEWSLETTER in proof
    assert ">nl<" in proof.replace(" ", "").replace("\n", "")


def test_the_privacy_page_speaks_romanian_and_falls_back_to_english_while_untranslated(client):
    ProcessingActivity.objects.create(
        name="Quarterly magazine",
        data_subjects="Subscribers",
        data_categories="E-mail address",
        storage="EU servers",
        retention="Until unsubscribed",
        access="Marketing",
        translations={"ro": {"data_categories": "Adresa de e-mail"}},
    )

    page = text(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="ro"))

    assert "Declarație de confidențialitate" in page  # the seeded statement's title
    assert "Prelucrăm date cu caracter personal numai în scopurile" in page
    assert "Trimiterea buletinului nostru informativ celor care l-au cerut." in page
    assert "Evidențele de facturare: cel mult trei ani" in page  # the retention reason
    assert "Adresa de e-mail" in page
    assert "Until unsubscribed" in page  # not translated yet: English, the page still works


def test_a_statement_missing_a_language_cannot_be_published(admin_user):
    draft = NoticeVersionFactory(published_at=None, translations={"nl": {"title": "Privacy"}})

    with pytest.raises(ValidationError, match="missing: nl: body"):
        publish_notice(notice=draft, actor=admin_user)

    draft.refresh_from_db()
    assert draft.published_at is None


def test_the_admin_refuses_a_consent_purpose_without_its_dutch_and_romanian_sentence(admin_client):
    form = {
        "code": "events",
        "name": "Event invitations",
        "legal_basis": "consent",
        "description": "Inviting people to our events.",
        "consent_text": "Yes, invite me to your events.",
        "consent_text_nl": "Ja, nodig mij uit voor uw evenementen.",
        "is_active": "on",
    }

    refused = admin_client.post(reverse("admin:privacy_purpose_add"), form)

    assert refused.status_code == 200
    assert "Give the Română text" in text(refused)
    assert not Purpose.objects.filter(code="events").exists()
    form["consent_text_ro"] = "Da, invitați-mă la evenimentele dumneavoastră."
    admin_client.post(reverse("admin:privacy_purpose_add"), form)
    assert Purpose.objects.get(code="events").translations["ro"]["consent_text"].startswith("Da,")


def test_the_material_change_mail_goes_in_each_persons_language(admin_user, newsletter):
    people = {}
    for language in ("en", "nl", "ro"):
        contact = ContactFactory(email=f"reader.{language}@example.org", language=language)
        grant(contact, newsletter)
        people[language] = contact
    notice = NoticeVersionFactory(published_at=None, is_material_change=True)
    publish_notice(notice=notice, actor=admin_user)

    send_material_change_batch(notice_id=notice.pk)

    by_language = {
        Contact.objects.get(email=message.to[0]).language: message for message in mail.outbox
    }
    assert by_language["en"].subject == "Our privacy statement has changed"
    assert by_language["ro"].subject == "Declarația noastră de confidențialitate s-a modificat"
    assert "Wij sturen nu ook een nieuwsbrief per kwartaal." in by_language["nl"].body
    assert "Acum trimitem și un buletin informativ trimestrial." in by_language["ro"].body
    assert NoticeVersion.objects.get(pk=notice.pk).published_at is not None
