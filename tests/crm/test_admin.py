import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from crm.models import Contact, ContactSource, Interaction, Source
from tests.crm.factories import (
    CompanyFactory,
    ContactFactory,
    ContactSourceFactory,
    InteractionFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:crm_contact_changelist")
ADD_URL = reverse("admin:crm_contact_add")

# The add form posts its two inline formsets even when they are empty.
EMPTY_INLINES = {
    "provenance-TOTAL_FORMS": "0",
    "provenance-INITIAL_FORMS": "0",
    "interactions-TOTAL_FORMS": "0",
    "interactions-INITIAL_FORMS": "0",
}


def add_form(**fields) -> dict:
    return {"relationship": "prospect", "email_status": "valid", **EMPTY_INLINES, **fields}


def test_contact_list_shows_contacts_with_their_company(admin_client):
    ContactFactory(first_name="Ioana", last_name="Popescu", company__name="Carpathia Soft")
    page = admin_client.get(LIST_URL)
    assert page.status_code == 200
    assert "Ioana Popescu" in page.text
    assert "Carpathia Soft" in page.text


def test_contact_list_runs_the_same_queries_for_5_or_25_contacts(admin_client):
    ContactFactory.create_batch(5)
    admin_client.get(LIST_URL)  # fills the cached list of countries in use
    with CaptureQueriesContext(connection) as few:
        admin_client.get(LIST_URL)
    ContactFactory.create_batch(20)
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(LIST_URL)
    assert page.text.count('class="field-email"') >= 25
    assert len(many) == len(few)


def test_search_by_email_prefix_finds_only_matching_contacts(admin_client):
    ContactFactory(email="wout.maes@example.org", first_name="Wout", last_name="Maes")
    ContactFactory(email="elise.claes@example.net", first_name="Elise", last_name="Claes")
    page = admin_client.get(LIST_URL, {"q": "wout.m"})
    assert "Wout Maes" in page.text
    assert "Elise Claes" not in page.text


def test_search_by_last_name_and_company_prefix(admin_client):
    ContactFactory(first_name="Mihai", last_name="Ionescu", company__name="Dunarea Transport")
    ContactFactory(first_name="Lena", last_name="Weber", company__name="Rheinwerk")
    assert "Mihai Ionescu" in admin_client.get(LIST_URL, {"q": "iones"}).text
    by_company = admin_client.get(LIST_URL, {"q": "dunarea"}).text
    assert "Mihai Ionescu" in by_company
    assert "Lena Weber" not in by_company


def test_filters_by_country_and_source_kind(admin_client):
    ContactFactory(first_name="Aoife", last_name="Murphy", country="IE")
    directory = ContactSourceFactory(
        contact__first_name="Hugo",
        contact__last_name="Martin",
        contact__country="FR",
        source__kind=Source.Kind.BUSINESS_DIRECTORY,
    )
    by_country = admin_client.get(LIST_URL, {"country": "IE"}).text
    assert "Aoife Murphy" in by_country
    assert "Hugo Martin" not in by_country
    by_source = admin_client.get(LIST_URL, {"source_kind": "business_directory"}).text
    assert str(directory.contact) in by_source
    assert "Aoife Murphy" not in by_source


def test_adding_a_contact_normalises_and_records_staff_entry_provenance(admin_client, admin_user):
    response = admin_client.post(
        ADD_URL,
        add_form(
            first_name="Niamh",
            email=" Niamh.Kelly@Example.org",
            phone="+44 20 7946 0555",
            country="IE",
        ),
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.email == "niamh.kelly@example.org"
    assert contact.phone == "+442079460555"
    provenance = ContactSource.objects.get(contact=contact)
    assert provenance.source.kind == Source.Kind.STAFF_ENTRY
    assert provenance.collected_by == admin_user


def test_rows_added_on_the_contact_page_are_held_by_staff_and_audited(admin_client, admin_user):
    source = SourceFactory(kind=Source.Kind.EVENT, name="Utrecht fair")
    rows = {
        "provenance-TOTAL_FORMS": "1",
        "provenance-0-source": str(source.pk),
        "provenance-0-collected_at_0": "2026-03-02",
        "provenance-0-collected_at_1": "10:00:00",
        "provenance-0-reference": "Stand 12",
        "interactions-TOTAL_FORMS": "1",
        "interactions-0-kind": Interaction.Kind.MEETING,
        "interactions-0-occurred_at_0": "2026-03-02",
        "interactions-0-occurred_at_1": "10:30:00",
        "interactions-0-subject": "Met at the stand",
        "interactions-0-body": "Wants the catalogue.",
    }
    response = admin_client.post(ADD_URL, {**add_form(email="sanne@example.org"), **rows})
    assert response.status_code == 302
    provenance = ContactSource.objects.get()  # the row staff gave, no staff-entry one besides
    assert (provenance.source, provenance.collected_by) == (source, admin_user)
    interaction = Interaction.objects.get()
    assert interaction.staff == admin_user
    created = AuditEvent.objects.filter(action=AuditEvent.Action.CREATED, actor=admin_user)
    assert {str(provenance.pk), str(interaction.pk)} <= set(
        created.values_list("object_id", flat=True)
    )


def test_deleting_an_interaction_in_the_admin_is_audited(admin_client, admin_user):
    interaction = InteractionFactory()
    response = admin_client.post(
        reverse("admin:crm_interaction_delete", args=[interaction.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Interaction.objects.exists()
    deleted = AuditEvent.objects.get(action=AuditEvent.Action.DELETED)
    assert (deleted.actor, deleted.object_id) == (admin_user, str(interaction.pk))


def test_invalid_email_gets_a_clear_message_and_nothing_is_saved(admin_client):
    response = admin_client.post(ADD_URL, add_form(email="niamh.kelly@", phone="+31 6 1234 5678"))
    assert response.status_code == 200
    assert "Enter a valid email address" in response.text or "valid e-mail" in response.text
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN).exists()


def test_invalid_phone_gets_a_clear_message(admin_client):
    response = admin_client.post(ADD_URL, add_form(email="cian.byrne@example.org", phone="12345"))
    assert "phone number" in response.text
    assert not Contact.objects.exists()


def test_duplicate_by_case_and_spaces_links_to_the_existing_contact(admin_client):
    existing = ContactFactory(email="chloe.dubois@example.org")
    response = admin_client.post(ADD_URL, add_form(email="  Chloe.Dubois@EXAMPLE.org "))
    assert response.status_code == 200
    assert "already exists" in response.text
    assert reverse("admin:crm_contact_change", args=[existing.pk]) in response.text
    assert Contact.objects.count() == 1


def test_contact_page_shows_provenance_and_interactions_and_is_audited(admin_client, admin_user):
    provenance = ContactSourceFactory(
        source__name="Benelux business directory",
        reference="https://directory.example.net/brightlane",
    )
    InteractionFactory(contact=provenance.contact, subject="Asked about pricing")
    page = admin_client.get(reverse("admin:crm_contact_change", args=[provenance.contact.pk]))
    assert page.status_code == 200
    assert "Benelux business directory" in page.text
    assert "https://directory.example.net/brightlane" in page.text
    assert "Asked about pricing" in page.text
    view = AuditEvent.objects.get(action=AuditEvent.Action.VIEWED)
    assert view.actor == admin_user
    assert view.object_id == str(provenance.contact.pk)


def test_staff_cannot_delete_a_person_outside_erasure(admin_client):
    contact = ContactFactory()
    response = admin_client.post(
        reverse("admin:crm_contact_delete", args=[contact.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_company_form_normalises_domain_from_website(admin_client):
    response = admin_client.post(
        reverse("admin:crm_company_add"),
        {
            "name": "Spree Health",
            "website": "https://www.Spree-Health.example.org/",
            "country": "DE",
        },
    )
    assert response.status_code == 302
    company = CompanyFactory._meta.model.objects.get(name="Spree Health")
    assert company.domain == "spree-health.example.org"


def test_search_finds_multi_word_last_names_and_company_names(admin_client):
    ContactFactory(first_name="Anna", last_name="de Vries", company__name="Brightlane")
    ContactFactory(first_name="Daan", last_name="Smit", company__name="Tulip Data Works")
    ContactFactory(first_name="Bram", last_name="Visser", company__name="Tulip Bulbs")
    assert "Anna de Vries" in admin_client.get(LIST_URL, {"q": "de vries"}).text
    page = admin_client.get(LIST_URL, {"q": "tulip data"}).text
    assert "Daan Smit" in page
    assert "Bram Visser" not in page
