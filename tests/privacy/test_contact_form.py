"""The public contact form: a message for staff, with provenance, and never a consent."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Contact, Interaction, Source
from privacy.models import ConsentEvent, ConsentState
from tests.crm.factories import ContactSourceFactory
from tests.privacy.factories import ContactFactory
from tests.privacy.pages import field_error, heading, text

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
    # Anyone can type an address: the message is not the person's activity until confirmed.
    assert contact.last_activity_at is None
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


def test_a_stranger_posting_a_known_address_adds_no_history_and_no_activity(client):
    inactive_since = timezone.now() - timedelta(days=700)
    known = ContactFactory(email="sofie.willems@example.net", last_activity_at=inactive_since)
    ContactSourceFactory(contact=known)

    client.post("/contact/", MESSAGE)

    known.refresh_from_db()
    assert known.last_activity_at == inactive_since
    assert known.provenance.count() == 1
    assert known.interactions.get().kind == Interaction.Kind.CONTACT_FORM


def test_the_admin_says_the_message_is_unverified_until_staff_confirm_the_sender(
    client, admin_client
):
    client.post("/contact/", MESSAGE)
    message = Interaction.objects.get()
    contact = message.contact
    page = reverse("admin:crm_contact_change", args=[contact.pk])
    listing = reverse("admin:crm_interaction_changelist")

    assert "Unverified: anyone can type an address into the form" in text(admin_client.get(page))
    assert "Unverified" in text(admin_client.get(listing))

    admin_client.post(
        listing, {"action": "confirm_sender", "_selected_action": [message.pk]}, follow=True
    )

    contact.refresh_from_db()
    message.refresh_from_db()
    assert contact.last_activity_at == message.occurred_at
    assert "Confirmed by staff" in text(admin_client.get(page))
