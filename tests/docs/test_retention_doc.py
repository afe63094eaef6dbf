"""docs/retention.md shows the retention schedule the seeded rules actually apply."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps

from privacy.deletion.retention import schedule_markdown
from privacy.models import RetentionRule

DOC = Path(__file__).resolve().parents[2] / "docs" / "retention.md"


@pytest.mark.django_db
def test_the_documented_schedule_is_the_one_the_rules_apply():
    if not RetentionRule.objects.exists():
        # A transactional test earlier in the run flushed the seeded rows: seed them again.
        for migration in (
            "privacy.migrations.0006_default_retention_rules",
            "privacy.migrations.0012_audit_retention_rule",
            "crm.migrations.0009_import_report_retention_rule",
            "campaigns.migrations.0012_tracking_retention_rule",
        ):
            importlib.import_module(migration).seed(apps, None)
        importlib.import_module(
            "campaigns.migrations.0015_tracking_origin_and_web_visits"
        ).seed_rule(apps, None)
    assert schedule_markdown() in DOC.read_text()
