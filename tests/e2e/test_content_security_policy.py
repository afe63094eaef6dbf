"""The staff screens still work in a browser that enforces the Content-Security-Policy."""

import pytest
from django.contrib.auth import get_user_model

from tests.e2e.conftest import log_in_as_staff
from tests.privacy.factories import ContactFactory, PurposeFactory, grant, withdraw

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(visitor_factory):
    """A logged-in superuser's browser tab."""
    admin = get_user_model().objects.create_superuser(
        "admin", "admin@example.org", "a long demo passphrase"
    )
    visitor = visitor_factory("en-GB")
    log_in_as_staff(visitor, admin, "a long demo passphrase")
    return visitor


def test_the_api_docs_draw_every_operation_from_our_own_scripts(staff):
    page = staff.open("/api/docs/")

    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10
    # visitor_factory fails the test if the CSP blocked any script or style on the way.


def test_the_admin_forms_and_their_scripts_run_under_the_policy(staff):
    contact = ContactFactory(email="noor.bakker@example.org")
    page = staff.open(f"/admin/crm/contact/{contact.pk}/change/")

    # The admin's date widget is added by its own script: proof the script ran.
    assert page.locator(".datetimeshortcuts").first.is_visible()
    assert page.locator("#id_email").input_value() == "noor.bakker@example.org"


def test_the_privacy_screens_of_the_admin_run_under_the_policy(staff):
    for path in (
        "/admin/",
        "/admin/privacy/subjectrequest/",
        "/admin/privacy/subjectrequest/add/",
        "/admin/privacy/breach/",
        "/admin/privacy/breach/add/",
        "/admin/privacy/processingactivity/",
        "/admin/privacy/retentionrule/",
        "/admin/crm/contact/add/",
    ):
        page = staff.open(path)
        assert page.locator("#content h1").first.is_visible(), path
    # visitor_factory fails the test if the CSP blocked any script or style on these pages.


def test_the_dashboard_chart_is_drawn_with_the_stylesheet_the_policy_allows(staff):
    purpose = PurposeFactory()
    for contact in ContactFactory.create_batch(3):
        grant(contact, purpose)
    withdraw(contact, purpose)

    page = staff.open("/admin/")

    chart = page.locator("#dashboard-consents svg.consent-chart")
    assert chart.is_visible()
    granted = chart.locator("rect.granted").last
    withdrawn = chart.locator("rect.withdrawn").last
    # Colours come from privacy/dashboard.css: without it both bars would be the default black.
    fills = [bar.evaluate("e => getComputedStyle(e).fill") for bar in (granted, withdrawn)]
    assert "rgb(0, 0, 0)" not in fills
    assert fills[0] != fills[1]
