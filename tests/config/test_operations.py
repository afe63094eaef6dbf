"""The operations page, `manage.py health` and /healthz/ready: the machinery's state, no people."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from core.models import OutboxTask, TaskFailure, TaskRun
from core.task_runs import record_beat_sent
from core.tasks import publish_pending
from integrations.models import WebhookEndpoint
from privacy.models import Processor, RetentionRule
from privacy.tasks import purge_expired
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db
PAGE = "/admin/operations/"


@pytest.fixture
def administrator():
    user = get_user_model().objects.create_user("ops", password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Administrator")[0])
    browser = Client()
    browser.force_login(user)
    return browser


def _health() -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("health", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_with_beat_heard_and_nothing_waiting_everything_is_on_time(administrator):
    record_beat_sent(task="config.tasks.publish_pending")

    page = administrator.get(PAGE)
    code, printed = _health()

    assert page.status_code == 200
    for title in (
        "Queues",
        "Periodic tasks",
        "Outbox",
        "Failed tasks (last day)",
        "Retention rules that failed",
        "Webhooks that fail",
        "Mail that could not be sent",
    ):
        assert f"<h2>{title}</h2>" in page.text
        assert title in printed
    assert "All machinery on time" in page.text
    assert "outbox-publish-pending" in page.text
    assert code == 0, printed
    assert "Everything is on time." in printed


def test_a_webhook_endpoint_that_gave_up_is_named_with_since_when(administrator):
    shop = Processor.objects.create(name="Web shop", service="orders", location="NL")
    WebhookEndpoint.objects.create(
        name="Shop orders",
        url="https://shop.example.net/hooks",
        recipient=shop,
        failing_since=timezone.now() - timedelta(hours=3),
    )
    WebhookEndpoint.objects.create(
        name="Shop stock", url="https://shop.example.net/stock", recipient=shop
    )

    page = administrator.get(PAGE)
    _, printed = _health()

    assert "Shop orders" in page.text and "failing since 3 h ago" in page.text
    assert "Shop stock" not in page.text
    assert "Shop orders" in printed


def test_only_administrators_open_the_operations_page(client):
    marketing = get_user_model().objects.create_user("mk", password="x" * 16, is_staff=True)
    client.force_login(marketing)
    assert client.get(PAGE).status_code == 403


def test_an_outbox_entry_waiting_too_long_is_red_on_the_page_and_fails_the_command(
    administrator, settings
):
    record_beat_sent(task="config.tasks.publish_pending")
    settings.OPERATIONS_OUTBOX_MAX_AGE_SECONDS = 300
    task = OutboxTask.objects.create(task="privacy.tasks.purge_expired")
    OutboxTask.objects.filter(pk=task.pk).update(created_at=task.created_at - timedelta(minutes=6))

    page = administrator.get(PAGE).text
    code, printed = _health()

    assert "1 line overdue" in page
    assert 'class="operations-overdue"' in page
    assert code == 1
    assert "Outbox: OVERDUE: 1 waiting, oldest queued 6 min ago" in printed


def test_a_failing_nightly_purge_shows_its_rule_its_task_and_the_failure(administrator):
    record_beat_sent(task="privacy.tasks.purge_expired")
    RetentionRule.objects.create(kind="aaa_unknown", period_days=30)
    person = ContactFactory(first_name="Marieke", email="marieke.bos@example.org")

    purge_expired.apply()

    run = TaskRun.objects.get(task="privacy.tasks.purge_expired")
    assert (run.outcome, run.error) == ("failed", "RetentionFailed")
    assert TaskFailure.objects.filter(task="privacy.tasks.purge_expired").count() == 1
    page = administrator.get(PAGE).text
    assert "aaa_unknown" in page
    assert "Last run failed (RetentionFailed)." in page
    assert "1 x RetentionFailed" in page
    assert person.first_name not in page and person.email not in page
    code, printed = _health()
    assert code == 1
    assert "privacy-purge-expired-nightly" in str(printed.splitlines()[-1])


def test_a_periodic_task_that_ran_records_its_success_and_next_due_time(administrator):
    publish_pending.apply()

    run = TaskRun.objects.get(task="config.tasks.publish_pending")
    assert run.outcome == "succeeded" and run.last_succeeded_at is not None
    page = administrator.get(PAGE).text
    assert "succeeded, started" in page


def test_ready_answers_each_check_by_name(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "broker", "cache"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_ready_and_health_name_a_stopped_broker_without_a_traceback(client, capsys):
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    celery_app.conf.broker_transport = None
    try:
        response = client.get("/healthz/ready")
        code, printed = _health()
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport = previous
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "failed"
    assert code == 1
    assert "broker       FAILED: unreachable" in printed
    assert "Broker: OVERDUE: unreachable" in printed
    assert "Traceback" not in printed + capsys.readouterr().err


def test_the_admin_home_links_administrators_to_the_operations_page(administrator, client):
    assert 'href="/admin/operations/"' in administrator.get("/admin/").text
    marketing = get_user_model().objects.create_user("mk2", password="x" * 16, is_staff=True)
    client.force_login(marketing)
    assert "/admin/operations/" not in client.get("/admin/").text
