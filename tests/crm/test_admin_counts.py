import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Contact
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:crm_contact_changelist")

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner estimates exist on PostgreSQL only"
)


def shown_count(page) -> str:
    """Return the count the list's paginator line shows, e.g. "about 7" or "3"."""
    match = re.search(r'<p class="paginator">.*?((?:about )?\d+) contacts?', page.text, re.S)
    assert match, "the list shows no count"
    return match.group(1)


def seed() -> None:
    """Make four Dutch and three Irish contacts, one more merged away, and analyse the table."""
    ContactFactory.create_batch(4, country="NL")
    irish = ContactFactory.create_batch(3, country="IE")
    ContactFactory(country="IE", merged_into=irish[0])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_contact")


def counts_contacts(queries: CaptureQueriesContext) -> bool:
    """Say whether any captured query counted contacts."""
    return any("COUNT(" in q["sql"].upper() and "crm_contact" in q["sql"] for q in queries)


@on_postgresql
def test_a_big_unfiltered_list_says_about_n_from_the_estimate(admin_client, settings):
    settings.ADMIN_EXACT_COUNT_LIMIT = 5
    seed()
    admin_client.get(LIST_URL)  # fills the cached list of countries in use
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(LIST_URL)
    # The table's estimate counts the merged record too: it is "about" the list's size.
    assert shown_count(page) == "about 8"
    assert not counts_contacts(queries)


@on_postgresql
def test_filtered_and_searched_lists_show_exact_counts_over_the_threshold(admin_client, settings):
    settings.ADMIN_EXACT_COUNT_LIMIT = 5
    seed()
    assert shown_count(admin_client.get(LIST_URL, {"country": "IE"})) == "3"
    assert shown_count(admin_client.get(LIST_URL, {"country": "NL"})) == "4"


def test_a_list_under_the_threshold_is_counted_exactly(admin_client, settings):
    settings.ADMIN_EXACT_COUNT_LIMIT = 1000
    seed()
    assert shown_count(admin_client.get(LIST_URL)) == "7"
    assert shown_count(admin_client.get(LIST_URL, {"country": "IE"})) == "3"


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL has an estimate")
def test_without_planner_statistics_every_list_is_counted_exactly(admin_client, settings):
    settings.ADMIN_EXACT_COUNT_LIMIT = 1
    seed()
    assert shown_count(admin_client.get(LIST_URL)) == "7"


def test_the_list_checkboxes_are_the_same_html_as_django_renders(admin_client):
    contacts = ContactFactory.create_batch(3, first_name="Ana & <Bo>")
    contact_admin = admin.site._registry[Contact]
    for contact in contacts:
        assert contact_admin.action_checkbox(contact) == admin.ModelAdmin.action_checkbox(
            contact_admin, contact
        )
    page = admin_client.get(LIST_URL)
    assert page.text.count('class="action-select"') == 3
