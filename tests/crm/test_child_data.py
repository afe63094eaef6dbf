"""Child data (issue 8, item 8): a birth date under 16 is refused at entry, from every door."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from crm.contacts import age_on, create_contact, update_contact
from crm.models import Contact, Source
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


def years_ago(years: int, *, days: int = 0) -> date:
    """Return the date `years` years before today (28 February for a 29th), minus `days` days."""
    today = timezone.localdate()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # today is 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary - timedelta(days=days)


def fifteen_today_turning_sixteen_tomorrow() -> date:
    return years_ago(16) + timedelta(days=1)


def test_a_birth_date_under_16_is_refused_with_the_age_and_nothing_is_saved():
    with pytest.raises(ValidationError) as refused:
        create_contact(
            actor=None,
            channel="admin",
            first_name="Mila",
            email="mila.visser@example.org",
            birth_date=fifteen_today_turning_sixteen_tomorrow(),
        )

    assert refused.value.message_dict == {
        "birth_date": [
            "We do not keep data about children under 16; this birth date makes the person 15."
        ]
    }
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_person_who_turns_16_today_is_accepted():
    contact = create_contact(
        actor=None,
        channel="admin",
        email="sem.bakker@example.org",
        birth_date=years_ago(16),
    )
    contact.refresh_from_db()
    assert contact.birth_date == years_ago(16)


def test_a_young_child_is_refused_with_their_age_and_a_future_date_is_refused():
    with pytest.raises(ValidationError, match="makes the person 9"):
        create_contact(actor=None, channel="api", birth_date=years_ago(9, days=100))
    with pytest.raises(ValidationError, match="cannot be in the future"):
        create_contact(actor=None, channel="api", birth_date=timezone.localdate() + timedelta(1))
    assert not Contact.objects.exists()


def test_a_date_typed_as_text_is_read_and_checked_the_same_way():
    with pytest.raises(ValidationError, match="makes the person 12"):
        create_contact(actor=None, channel="api", birth_date=years_ago(12).isoformat())
    with pytest.raises(ValidationError, match="valid date"):
        create_contact(actor=None, channel="api", birth_date="2001-02-30")
    adult = create_contact(actor=None, channel="api", birth_date="1980-05-17")
    assert adult.birth_date == date(1980, 5, 17)


def test_changing_a_birth_date_to_a_child_is_refused_and_the_row_stays_as_it_was():
    contact = ContactFactory(birth_date=date(1990, 1, 1))

    with pytest.raises(ValidationError, match="makes the person 14"):
        update_contact(
            contact=contact,
            actor=None,
            channel="admin",
            birth_date=years_ago(14, days=3),
            job_title="Intern",
        )

    contact.refresh_from_db()
    assert (contact.birth_date, contact.job_title) == (date(1990, 1, 1), "")


def test_a_birth_date_on_29_february_counts_a_year_on_1_march_in_a_common_year():
    born = date(2008, 2, 29)
    assert age_on(born, date(2024, 2, 28)) == 15
    assert age_on(born, date(2024, 2, 29)) == 16
    assert age_on(born, date(2025, 2, 28)) == 16
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(date(2010, 3, 1), date(2026, 2, 28)) == 15
    assert age_on(date(2010, 3, 1), date(2026, 3, 1)) == 16


@pytest.fixture
def api(staff_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    return client


def new_contact(**fields) -> dict:
    return {
        "first_name": "Noor",
        "email": "noor.dekker@example.org",
        "source": {"kind": "web_form", "name": "Shop checkout"},
        **fields,
    }


def test_the_api_answers_400_on_birth_date_for_a_child_and_saves_nothing(api):
    birth = fifteen_today_turning_sixteen_tomorrow()
    response = api.post("/api/v1/contacts/", new_contact(birth_date=birth.isoformat()), "json")

    assert response.status_code == 400
    assert response.json() == {
        "birth_date": [
            "We do not keep data about children under 16; this birth date makes the person 15."
        ]
    }
    assert not Contact.objects.exists()
    assert not Source.objects.exists()


def test_the_api_accepts_a_16_year_old(api):
    response = api.post("/api/v1/contacts/", new_contact(birth_date=str(years_ago(16))), "json")

    assert response.status_code == 201, response.content
    assert response.json()["birth_date"] == str(years_ago(16))


def test_the_api_refuses_a_patch_that_makes_the_person_a_child(api):
    contact = ContactFactory(birth_date=date(1985, 6, 1))
    response = api.patch(
        f"/api/v1/contacts/{contact.pk}/", {"birth_date": str(years_ago(10))}, "json"
    )

    assert response.status_code == 400
    assert "makes the person 10" in response.json()["birth_date"][0]
    contact.refresh_from_db()
    assert contact.birth_date == date(1985, 6, 1)


def test_the_admin_form_shows_the_refusal_next_to_the_birth_date(admin_client):
    fifteen = timezone.localdate() - timedelta(days=15 * 365)
    response = admin_client.post(
        "/admin/crm/contact/add/",
        {
            "email": "young.reader@example.org",
            "birth_date": fifteen.isoformat(),
            "relationship": "prospect",
            "email_status": "valid",
            "provenance-TOTAL_FORMS": "0",
            "provenance-INITIAL_FORMS": "0",
            "interactions-TOTAL_FORMS": "0",
            "interactions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "We do not keep data about children under 16" in response.text
    assert not Contact.objects.exists()
