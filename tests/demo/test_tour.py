"""The first-run tour on the admin home: every step opens, none changes data, it can go away."""

import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser():
    user = get_user_model().objects.create_superuser("admin", "admin@example.org", "x" * 16)
    browser = Client()
    browser.force_login(user)
    return browser


def _steps(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="tour-step">', page)


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model not in (AuditEvent,) and model._meta.app_label not in ("sessions",)
    }


def test_every_step_of_the_tour_opens_and_none_changes_data(admin_browser):
    call_command("seed_demo")
    home = admin_browser.get("/admin/").text
    steps = _steps(home)
    assert len(steps) == 8
    before = _row_counts()

    for url in steps:
        assert admin_browser.get(url).status_code == 200, url

    assert _row_counts() == before
    assert "Changes data:" in home


def test_the_tour_can_be_put_away_and_brought_back(admin_browser):
    call_command("seed_demo")

    away = admin_browser.post("/admin/tour/dismiss/", follow=True).text
    assert "Start here" not in away
    assert "Show the tour of the CRM again" in away
    assert "Start here" not in admin_browser.get("/admin/").text

    back = admin_browser.post("/admin/tour/reopen/", follow=True).text
    assert "Start here" in back


def test_a_role_sees_only_the_steps_it_may_open(admin_browser):
    from django.contrib.auth.models import Group

    from tests.privacy.test_roles import run_roles_migration

    call_command("seed_demo")
    run_roles_migration()
    marketing = get_user_model().objects.create_user("mk", password="x" * 16, is_staff=True)
    marketing.groups.add(Group.objects.get(name="Marketing"))
    browser = Client()
    browser.force_login(marketing)

    steps = _steps(browser.get("/admin/").text)

    assert steps and not any("subjectrequest" in url or "retentionrule" in url for url in steps)
    assert all(browser.get(url).status_code == 200 for url in steps)


def test_without_the_demo_data_no_tour_is_offered(admin_browser):
    assert "Start here" not in admin_browser.get("/admin/").text
    assert admin_browser.get("/admin/tour/dismiss/").status_code == 405
