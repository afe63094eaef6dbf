"""The public contact form: a message for staff, with provenance, and never a consent."""

import pytest

from crm.models import Contact, Interaction, Source
from privacy.models import ConsentEvent, ConsentState
from tests.privacy.factories import ContactFactory
from tests.privacy.pages import field_error, heading

pytestmark = pytest.mark.django_db

MESSAGE = {
    "name": "Sofie Willems",
    "email": " Sofie.Willems@Example.net",
    "message": "Do you deliver to Ghent? I would like to order forty tiles.",
}


def test_a_message_is_kept_for_staff_with_web_form_provenance_and_no_consent(client):
    response = client.post("/contact/", MESSAGE)

    assert response.status_code == 200
    assert heading(response) == "Thank you, your message is with us"
    contact = Contact.objects.get(email="sofie.willems@example.net")
    assert (contact.first_name, contact.last_name) == ("Sofie", "Willems")
    assert contact.last_activity_at is not None
    interaction = Interaction.objects.get()
    assert interaction.contact == contact
    assert interaction.kind == Interaction.Kind.CONTACT_FORM
    assert interaction.body == MESSAGE["message"]
    assert interaction.answered_at is None
    provenance = contact.provenance.get()
    assert provenance.source.kind == Source.Kind.WEB_FORM
    assert provenance.source.name == "Contact form"
    assert provenance.reference == "/contact/"
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_the_same_message_posted_twice_is_stored_once(client):
    client.post("/contact/", MESSAGE)
    again = client.post("/contact/", MESSAGE)

    assert again.status_code == 200
    assert Interaction.objects.count() == 1
    assert Contact.objects.count() == 1


def test_a_known_person_writing_keeps_their_record_and_gains_a_message(client):
    known = ContactFactory(email="sofie.willems@example.net", first_name="Sofie", last_name="W.")

    client.post("/contact/", MESSAGE)

    assert Contact.objects.get() == known
    known.refresh_from_db()
    assert known.last_name == "W."
    assert known.interactions.get().kind == Interaction.Kind.CONTACT_FORM
    assert not ConsentEvent.objects.exists()


def test_an_invalid_address_shows_the_error_next_to_the_field_and_stores_nothing(client):
    response = client.post("/contact/", {**MESSAGE, "email": "sofie.willems@"})

    assert response.status_code == 200
    assert "Enter a valid e-mail address" in field_error(response, "email")
    assert field_error(response, "message") == ""
    assert not Contact.objects.exists()
    assert not Interaction.objects.exists()
