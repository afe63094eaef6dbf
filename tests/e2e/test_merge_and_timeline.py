"""A marketer finds two records of one person, merges them, and sees one timeline."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from crm.models import Contact
from privacy.staff.roles import ADMINISTRATOR, ROLES
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import InteractionFactory
from tests.e2e.conftest import log_in_as_staff, screenshot
from tests.privacy.factories import ContactFactory, PurposeFactory, grant
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long demo passphrase"


def test_a_marketer_merges_two_duplicates_and_sees_one_timeline(visitor_factory):
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() < len(ROLES) + 1:
        run_roles_migration()
    marketer = get_user_model().objects.create_user(
        "marketing", "marketing@example.org", PASSWORD, is_staff=True
    )
    marketer.groups.add(Group.objects.get(name="Marketing"))
    anna = ContactFactory(
        first_name="Anna", last_name="de Vries", phone="+31201234567", job_title=""
    )
    twin = ContactFactory(
        first_name="Anna", last_name="Vries", phone="+31201234567", job_title="Buyer"
    )
    InteractionFactory(
        contact=anna, subject="Call about the fair", occurred_at=timezone.now() - timedelta(days=3)
    )
    grant(
        twin, PurposeFactory(name="Bakery letter"), occurred_at=timezone.now() - timedelta(days=2)
    )
    MessageFactory(contact=twin, sent_at=timezone.now() - timedelta(days=1))

    staff = visitor_factory("en-GB")
    log_in_as_staff(staff, marketer, PASSWORD)
    page = staff.open(f"/admin/crm/contact/{anna.pk}/change/")
    duplicates = page.locator(".possible-duplicates").inner_text()
    assert "same phone number" in duplicates
    page.get_by_role("link", name="Compare and merge").click()

    assert "Merge contact" in staff.heading()
    page.get_by_label("Buyer").check()
    screenshot(page, "contact-merge")
    page.get_by_role("button", name="Merge").click()

    assert (
        f"Contact #{twin.pk} was merged into this record"
        in page.locator(".messagelist").inner_text()
    )
    timeline = page.locator(".contact-timeline").inner_text()
    for entry in ("Message", "Consent event", "Interaction"):
        assert entry in timeline
    assert page.locator(".possible-duplicates").count() == 0
    page.locator(".contact-timeline").scroll_into_view_if_needed()
    screenshot(page, "contact-timeline")
    kept = Contact.objects.get(pk=anna.pk)
    assert kept.job_title == "Buyer"

    # The merged record's old address leads to the one record left.
    page = staff.open(f"/admin/crm/contact/{twin.pk}/change/")
    assert page.url.endswith(f"/admin/crm/contact/{anna.pk}/change/")
