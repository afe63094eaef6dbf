"""The address and phone rules wherever a contact comes in: the admin, the API, the services."""

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.companies import save_company
from crm.contacts import create_contact
from crm.models import Company, Contact
from crm.suppression import email_hash, may_contact
from privacy.deletion.erasure import erase_subject
from tests.crm.factories import CompanyFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:crm_contact_add")
EMPTY_INLINES = {
    "provenance-TOTAL_FORMS": "0",
    "provenance-INITIAL_FORMS": "0",
    "interactions-TOTAL_FORMS": "0",
    "interactions-INITIAL_FORMS": "0",
}
SOURCE = {"kind": "web_form", "name": "Shop checkout", "reference": "https://shop.example.org/"}


@pytest.fixture(autouse=True)
def _dutch_default(settings) -> None:
    settings.DEFAULT_PHONE_REGION = "NL"


def add_form(**fields) -> dict:
    return {"relationship": "prospect", "email_status": "valid", **EMPTY_INLINES, **fields}


def test_the_admin_takes_the_address_out_of_name_and_address(admin_client):
    response = admin_client.post(ADD_URL, add_form(email="Niamh Kelly <Niamh.Kelly@Example.org>"))

    assert response.status_code == 302
    assert Contact.objects.get().email == "niamh.kelly@example.org"


def test_the_admin_names_an_invisible_character_and_saves_nothing(admin_client):
    response = admin_client.post(ADD_URL, add_form(email="niamh\u200b@example.org"))

    assert response.status_code == 200
    assert "invisible character (zero width space, U+200B) at position 6" in response.text
    assert not Contact.objects.exists()


def test_the_admin_refuses_a_special_use_domain(admin_client):
    response = admin_client.post(ADD_URL, add_form(email="niamh@printer.local"))

    assert "The domain printer.local is reserved" in response.text
    assert not Contact.objects.exists()


def test_a_local_number_is_read_in_the_company_country_when_the_person_has_none(admin_client):
    paris = CompanyFactory(name="Boulangerie Paul", country="FR")
    response = admin_client.post(
        ADD_URL, add_form(email="claire@example.net", phone="01 23 45 67 89", company=paris.pk)
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Contact.objects.get().phone == "+33123456789"


def test_a_local_number_with_no_country_anywhere_is_refused_as_ambiguous():
    with pytest.raises(ValidationError) as refused:
        create_contact(actor=None, channel="test", email="claire@example.net", phone="0612345678")

    assert "could be a number in" in refused.value.message_dict["phone"][0]
    assert not Contact.objects.exists()


def test_a_company_phone_keeps_its_extension():
    company = save_company(
        company=Company(name="Tulip", phone="020 123 4567 ext. 12", country="NL")
    )
    assert company.phone == "+31201234567;ext=12"


@pytest.mark.django_db(transaction=True)
def test_the_api_takes_name_and_address_and_refuses_an_over_long_local_part(
    live_server, staff_token
):
    with httpx.Client(
        base_url=f"{live_server.url}/api/v1/",
        headers={"Authorization": f"Token {staff_token}"},
        timeout=10,
    ) as api:
        created = api.post(
            "contacts/", json={"email": "Elena Dumitru <Elena@Example.NET>", "source": SOURCE}
        )
        refused = api.post("contacts/", json={"email": "e" * 65 + "@example.net", "source": SOURCE})

    assert created.status_code == 201, created.text
    assert created.json()["email"] == "elena@example.net"
    assert refused.status_code == 400
    assert "too long before the @-sign" in refused.text
    assert Contact.objects.count() == 1


def test_an_address_stored_before_the_rules_is_still_suppressed_and_erased():
    legacy = Contact.objects.create(email="old.printer@office.local", first_name="Old")
    assert email_hash("Old.Printer@office.local") == legacy.email_hash

    erase_subject(contact=legacy, requested_by=None, channel="test")

    assert not Contact.objects.filter(email="old.printer@office.local").exists()
    assert not may_contact(email="old.printer@office.local")
    with pytest.raises(ValidationError):
        email_hash("old printer@office.local")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The address holds an invisible character"),
        ("nl", "Het adres bevat een onzichtbaar teken"),
        ("ro", "Adresa conține un caracter invizibil"),
    ],
)
def test_the_subscription_form_says_an_address_holds_an_invisible_character(
    client, language, message
):
    page = client.post(
        "/subscribe/", {"email": "an\u200bna@example.org"}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert message in page.content.decode()
    assert not Contact.objects.exists()
