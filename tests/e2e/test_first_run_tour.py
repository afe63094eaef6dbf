"""The tour a newcomer follows on a fresh `make run`: first login, enrolment, each step, the end."""

import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import screenshot
from tests.two_factor import current_code

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long demo passphrase"


def test_a_newcomer_follows_the_tour_from_the_first_login_to_the_end(
    visitor_factory, settings, tmp_path
):
    settings.TRACKING_BUFFER_PATH = tmp_path / "tracking-hits.sqlite3"
    # A fresh database has the purposes and the statement of the data migration; an earlier
    # transactional test may have flushed them, so they are put back as the migration does.
    importlib.import_module("privacy.migrations.0003_default_purposes").seed(apps, None)
    call_command("seed_demo")
    get_user_model().objects.create_superuser("admin", "admin@example.org", PASSWORD)
    newcomer = visitor_factory("en-GB")

    # The first login: password, then the authenticator app is set up and recovery codes shown.
    page = newcomer.open("/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("input[name=code]").wait_for(state="visible")
    assert "Set up your authenticator app" in page.content()
    assert "Privacy-first CRM" in page.locator("#site-name").inner_text()
    device = TOTPDevice.objects.get(user__username="admin", confirmed=False)
    page.locator("input[name=code]").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("link", name="I have kept them: continue").click()

    tour = page.locator("#tour")
    tour.wait_for(state="visible")
    screenshot(page, "first-run-tour")
    steps = tour.locator("a.tour-step")
    titles = [steps.nth(i).inner_text() for i in range(steps.count())]
    assert len(titles) == 8
    for index, title in enumerate(titles):
        with page.expect_navigation():
            page.locator("#tour a.tour-step").nth(index).click()
        assert page.url.startswith(newcomer.base_url), title
        body = page.content()
        assert "Page not found" not in body and "Forbidden" not in body, title
        if "report" in page.url:
            # The demo report is true: deliveries, opens, clicks and a bounce are counted.
            report = page.locator("main, #content").first.inner_text()
            assert re.search(r"Delivered\s+[1-9]", report), report[:500]
        page.go_back()
        page.locator("#tour").wait_for(state="visible")

    page.get_by_role("button", name="Put the tour away").click()
    page.locator("#tour-reopen").wait_for(state="visible")
    assert page.locator("#tour").count() == 0
    page.get_by_role("button", name="Show the tour of the CRM again").click()
    page.locator("#tour").wait_for(state="visible")
