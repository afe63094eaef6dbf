"""Opens and clicks expire by their retention rule; the campaign's other events stay."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from campaigns.models import MessageEvent
from privacy.deletion.retention import category, run_rule
from privacy.models import RetentionRule
from tests.campaigns.factories import MessageEventFactory, MessageFactory

pytestmark = pytest.mark.django_db
Kind = MessageEvent.Kind


@pytest.fixture
def rule() -> RetentionRule:
    importlib.import_module("campaigns.migrations.0012_tracking_retention_rule").seed(apps, None)
    return RetentionRule.objects.get(kind="tracking_events")


def test_the_seeded_rule_keeps_opens_and_clicks_a_year(rule):
    assert (rule.period_days, rule.is_active, category(rule)) == (365, True, "campaign_history")


def test_old_opens_and_clicks_go_and_everything_else_stays(rule):
    message = MessageFactory()
    old = timezone.now() - timedelta(days=400)
    MessageEventFactory(message=message, kind=Kind.OPENED, occurred_at=old)
    MessageEventFactory(message=message, kind=Kind.CLICKED, occurred_at=old)
    MessageEventFactory(message=message, kind=Kind.BOUNCED, detail="soft", occurred_at=old)
    MessageEventFactory(message=message, kind=Kind.OPENED)
    run = run_rule(rule)
    assert run.acted == 2
    assert run.receipt == {"campaigns.messageevent": 2}
    assert sorted(MessageEvent.objects.values_list("kind", flat=True)) == ["bounced", "opened"]


def test_a_restricted_persons_events_are_skipped(rule):
    message = MessageFactory(contact__is_restricted=True)
    MessageEventFactory(message=message, occurred_at=timezone.now() - timedelta(days=400))
    run = run_rule(rule)
    assert (run.acted, run.skipped_restricted) == (0, 1)
