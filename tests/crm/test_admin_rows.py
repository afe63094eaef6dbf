"""The contact list's rows, rendered from per-column renderers, are the rows Django renders."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.templatetags.admin_list import items_for_result, result_list
from django.template.loader import render_to_string
from django.urls import reverse

from core.admin_rows import prepared_results
from core.templatetags.prepared_rows import prepared_result_list
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:crm_contact_changelist")
MARKUP = '<b>O\'Brien & "Sons"</b>'


@pytest.fixture
def awkward_contacts():
    """Contacts with markup in their names, no company, no country, no address, no activity."""
    return [
        ContactFactory(
            first_name=MARKUP,
            last_name="Ångström",
            company__name=MARKUP,
            last_activity_at=datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC),
            relationship="customer",
        ),
        ContactFactory(
            first_name="  ",
            last_name="",
            email=None,
            company=None,
            country="",
            last_activity_at=None,
        ),
        ContactFactory(first_name="Sanne", last_name="de Vries", country="BE", company=None),
    ]


@pytest.mark.parametrize(
    "query", ["", "?country=NL", "?o=-3.2", "?q=anna&relationship__exact=customer"]
)
def test_the_rows_are_the_ones_django_renders(admin_client, awkward_contacts, query):
    page = admin_client.get(LIST_URL + query)
    cl = page.context["cl"]
    assert cl.result_list, "the list shows contacts"

    expected = [list(items_for_result(cl, row, None)) for row in cl.result_list]
    assert prepared_results(cl) == expected
    # The whole table, headers and all, as Django's own template tag renders it.
    django_table = render_to_string("admin/change_list_results.html", result_list(cl))
    table = render_to_string("admin/change_list_results.html", prepared_result_list(cl))
    assert table == django_table
    assert table in page.text


def test_each_row_links_to_its_contact_with_the_list_s_filters(admin_client, awkward_contacts):
    marked = awkward_contacts[0]
    page = admin_client.get(LIST_URL + "?country=NL")

    change = reverse("admin:crm_contact_change", args=[marked.pk])
    link = f'<a href="{change}?_changelist_filters=country%3DNL">'
    assert link in page.text
    assert "&lt;b&gt;O&#x27;Brien &amp; &quot;Sons&quot;&lt;/b&gt; Ångström" in page.text
    assert "<b>O'Brien" not in page.text
    assert '<td class="field-relationship">Customer</td>' in page.text
    assert '<td class="field-last_activity_at nowrap">' in page.text


def test_a_contact_without_address_company_or_activity_shows_the_empty_mark(
    admin_client, awkward_contacts
):
    blank = awkward_contacts[1]
    cl = admin_client.get(LIST_URL).context["cl"]
    rows = dict(zip([c.pk for c in cl.result_list], prepared_results(cl), strict=True))

    row = rows[blank.pk]
    assert '<td class="field-email">-</td>' in row
    assert '<td class="field-company nowrap">-</td>' in row
    assert '<td class="field-country_name">-</td>' in row
    assert '<td class="field-last_activity_at nowrap">-</td>' in row
    assert row[0].startswith('<td class="action-checkbox"><input type="checkbox"')


@pytest.mark.parametrize("role", ["Marketing", "Support"])
def test_each_role_sees_the_rows_django_renders(role_client, awkward_contacts, role):
    # Roles differ in their actions, so in whether the list has a checkbox column.
    page = role_client(role).get(LIST_URL)
    assert page.status_code == 200
    cl = page.context["cl"]

    assert prepared_results(cl) == [list(items_for_result(cl, r, None)) for r in cl.result_list]
    assert render_to_string("admin/change_list_results.html", result_list(cl)) in page.text
