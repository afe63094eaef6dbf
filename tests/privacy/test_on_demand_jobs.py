"""Daily jobs on demand: the art. 14 notices sent now from the admin, for the roles that may."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent, OutboxTask
from crm.models import ContactSource, Source
from privacy.models import NoticeVersion, RetentionRule
from privacy.staff.roles import ROLES
from tests.crm.factories import ContactFactory, ContactSourceFactory, SourceFactory
from tests.privacy.factories import NoticeVersionFactory
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db
PAGE = "/admin/privacy/noticeversion/indirect-notices/"


@pytest.fixture
def staff():
    if Group.objects.filter(name__in=ROLES).count() < len(ROLES):
        run_roles_migration()

    def log_in(role: str) -> Client:
        user = get_user_model().objects.create_user(
            role.lower().replace(" ", "-"), password="x" * 16, is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        browser = Client()
        browser.force_login(user)
        browser.user = user
        return browser

    return log_in


@pytest.fixture
def eager_tasks():
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _found_in_directory(**fields) -> ContactSource:
    return ContactSourceFactory(
        source=SourceFactory(kind=Source.Kind.BUSINESS_DIRECTORY, name="Benelux directory"),
        contact=ContactFactory(**fields),
        collected_at=timezone.now() - timedelta(days=1),
    )


def test_the_officer_sends_the_due_notices_now_once_each_and_it_is_audited(
    staff, eager_tasks, django_capture_on_commit_callbacks
):
    NoticeVersionFactory()
    row = _found_in_directory(email="joost.willems@example.org")
    officer = staff("Privacy officer")
    assert "<strong>1</strong> person waits" in officer.get(PAGE).text

    with django_capture_on_commit_callbacks(execute=True):
        sent = officer.post(PAGE, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        again = officer.post(PAGE, follow=True)

    assert "Sending the art. 14 notice to 1 person now." in sent.text
    assert "No art. 14 notice is due" in again.text
    assert [m.to for m in mail.outbox] == [["joost.willems@example.org"]]
    row.refresh_from_db()
    assert row.informed_at is not None
    audited = AuditEvent.objects.filter(actor=officer.user, details__has_key="indirect_notices_now")
    assert sorted(e.details["indirect_notices_now"] for e in audited) == [0, 1]


def test_without_a_published_statement_nothing_is_sent_and_the_page_says_why(staff):
    NoticeVersion.objects.update(published_at=None)
    _found_in_directory(email="sanne.bakker@example.org")
    officer = staff("Privacy officer")

    page = officer.post(PAGE)

    assert "Publish a privacy statement first" in page.text
    assert OutboxTask.objects.count() == 0
    assert mail.outbox == []


def test_marketing_may_not_send_the_notices(staff):
    NoticeVersionFactory()
    _found_in_directory(email="femke.smit@example.org")
    marketing = staff("Marketing")

    assert marketing.get(PAGE).status_code == 403
    assert marketing.post(PAGE).status_code == 403
    assert mail.outbox == []


class Terminal(io.StringIO):
    """What a terminal receives: the command draws its progress bar only on one."""

    def isatty(self) -> bool:
        return True


def test_the_purge_command_draws_a_progress_bar_on_a_terminal(settings, tmp_path):
    from tests.privacy.test_retention import INACTIVE, isolate, quiet_customers

    isolate(settings, tmp_path)
    RetentionRule.objects.update_or_create(
        kind=INACTIVE, defaults={"period_days": 730, "action": "delete", "is_active": True}
    )
    quiet_customers(timezone.now(), 3)
    screen = Terminal()

    call_command("purge_expired", "--rule", INACTIVE, stdout=screen)

    assert f"\r{INACTIVE}: [{'#' * 30}] 100%  3 rows\n" in screen.getvalue()
    assert f"{INACTIVE}: removed 3;" in screen.getvalue()
