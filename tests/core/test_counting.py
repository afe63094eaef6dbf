import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.counting import distinct_values, estimated_table_rows, fast_count
from crm.models import Contact
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner estimates exist on PostgreSQL only"
)
on_other_databases = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL uses the planner's estimate"
)


@on_postgresql
def test_whole_table_count_comes_from_the_planner_without_scanning():
    ContactFactory.create_batch(7)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_contact")
    with CaptureQueriesContext(connection) as queries:
        counted = fast_count(Contact.objects.all(), exact_below=5)
    assert counted == 7
    assert not any("COUNT(" in q["sql"].upper() for q in queries)


@on_postgresql
def test_small_tables_and_filtered_lists_are_counted_exactly():
    ContactFactory.create_batch(3, country="IE")
    ContactFactory.create_batch(4, country="NL")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_contact")
    assert fast_count(Contact.objects.all(), exact_below=1000) == 7
    with CaptureQueriesContext(connection) as queries:
        assert fast_count(Contact.objects.filter(country="IE"), exact_below=5) == 3
    assert any("COUNT(" in q["sql"].upper() for q in queries)


@on_other_databases
def test_without_planner_statistics_the_count_is_exact():
    ContactFactory.create_batch(6)
    assert estimated_table_rows(Contact) is None
    assert fast_count(Contact.objects.all(), exact_below=1) == 6


def test_distinct_values_lists_each_country_once_in_order():
    for country in ("RO", "NL", "NL", "BE", ""):
        ContactFactory(country=country)
    assert distinct_values(Contact, "country") == ["BE", "NL", "RO"]
