"""`privacy_check`: failures exit non-zero, warnings do not, and `--json` prints only JSON."""

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from core.registry import registry
from crm.models import Interaction, Source
from privacy.accountability.checks import birth_date_cutoff, privacy_report
from privacy.models import ProcessingActivity, Processor, RetentionRule
from tests.crm.factories import ContactFactory, ContactSourceFactory
from tests.privacy.request_steps import SubjectRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("controller_named")]


def run_check(capsys, *args: str) -> tuple[str, CommandError | None]:
    """Run the command; return what it printed and the error it exited with, if any."""
    try:
        call_command("privacy_check", *args)
    except CommandError as exc:
        return capsys.readouterr().out, exc
    return capsys.readouterr().out, None


@pytest.fixture
def undeclared_model():
    declaration = registry.declarations.pop(Interaction)
    yield
    registry.declarations[Interaction] = declaration


def overdue_request() -> None:
    SubjectRequestFactory(due_at=timezone.now() - timedelta(days=1))


def rule_of_unknown_kind() -> None:
    RetentionRule.objects.create(kind="old_newsletter_bounces", period_days=30)


def processor_without_safeguard() -> None:
    Processor.objects.create(
        name="Example Mailer Corp.",
        service="E-mail delivery",
        data_shared="E-mail addresses",
        location="United States",
        outside_eu=True,
    )


def activity_without_safeguard() -> None:
    ProcessingActivity.objects.create(
        name="Helpdesk",
        data_subjects="Customers",
        data_categories="Name, e-mail, the question",
        storage="A helpdesk service",
        retention="One year",
        access="Support",
        transfer_outside_eu=True,
        transfer_country="India",
    )


def contact_under_16() -> None:
    ContactFactory(birth_date=timezone.localdate() - timedelta(days=15 * 365))


def test_report_counts_contacts_without_provenance_and_uninformed_indirect_ones():
    ContactFactory()
    ContactSourceFactory(source__kind=Source.Kind.BUSINESS_DIRECTORY, informed_at=None)
    ContactSourceFactory(source__kind=Source.Kind.WEB_FORM)
    report = privacy_report()
    assert report.contacts_without_provenance == 1
    assert report.indirect_contacts_not_informed == 1
    assert report.warnings[:2] == ["contacts_without_provenance", "indirect_contacts_not_informed"]
    assert report.ok


def test_the_command_passes_and_says_so_when_nothing_needs_fixing(capsys):
    ContactSourceFactory()
    out, error = run_check(capsys)
    assert error is None
    assert "Every personal-data model is declared." in out
    assert "Open data-subject requests past their deadline: 0" in out
    assert "Processors outside the EU without a transfer safeguard: 0" in out
    assert "Contacts without provenance: 0" in out
    assert out.rstrip().endswith("Privacy check passed.")


def test_warnings_are_reported_but_do_not_fail_the_check(capsys):
    ContactFactory()
    ContactSourceFactory(source__kind=Source.Kind.BUSINESS_DIRECTORY, informed_at=None)
    out, error = run_check(capsys)
    assert error is None
    assert "Warnings (they do not change the exit status):" in out
    assert "Contacts without provenance: 1" in out
    assert "Contacts from indirect sources not yet informed (art. 14): 1" in out


@pytest.mark.parametrize(
    ("make", "failure", "printed"),
    [
        (overdue_request, "overdue_requests", "Open data-subject requests past their deadline: 1"),
        (
            rule_of_unknown_kind,
            "rules_without_category",
            "Active retention rules without a data category: 1 (old_newsletter_bounces)",
        ),
        (
            processor_without_safeguard,
            "processors_without_safeguard",
            "Processors outside the EU without a transfer safeguard: 1 (Example Mailer Corp.)",
        ),
        (
            activity_without_safeguard,
            "activities_without_safeguard",
            "Processing activities outside the EU without a safeguard: 1 (Helpdesk)",
        ),
        (contact_under_16, "contacts_under_16", "Contacts younger than 16 by their birth date: 1"),
    ],
)
def test_each_failure_makes_the_command_exit_non_zero(capsys, make, failure, printed):
    make()
    out, error = run_check(capsys)
    assert printed in out
    assert error is not None
    assert error.returncode == 1
    assert privacy_report().failures == [failure]


def test_an_undeclared_model_makes_the_command_exit_non_zero(capsys, undeclared_model):
    out, error = run_check(capsys)
    assert "Undeclared personal data: crm.Interaction" in out
    assert error is not None
    assert "not in the registry" in str(error)


def test_json_prints_only_the_report_and_keeps_the_exit_status(capsys):
    processor_without_safeguard()
    contact_under_16()
    out, error = run_check(capsys, "--json")
    report = json.loads(out)
    assert error is not None
    assert report["ok"] is False
    assert report["failures"] == ["processors_without_safeguard", "contacts_under_16"]
    assert report["processors_without_safeguard"] == ["Example Mailer Corp."]
    assert report["contacts_under_16"] == 1
    # Organisations are named; people never are.
    assert "@" not in out


def test_json_of_a_passing_check_is_only_json(capsys):
    ContactSourceFactory()
    out, error = run_check(capsys, "--json")
    assert error is None
    assert json.loads(out)["ok"] is True


def test_an_inactive_rule_of_an_unknown_kind_is_not_a_failure():
    # A kind retired from the code keeps its switched-off rule for the run history.
    RetentionRule.objects.create(kind="retired_kind", period_days=30, is_active=False)
    assert privacy_report().rules_without_category == []


def test_a_processor_outside_the_eu_with_a_safeguard_passes():
    processor_without_safeguard()
    Processor.objects.filter(name="Example Mailer Corp.").update(safeguard="SCCs")
    assert privacy_report().processors_without_safeguard == []


def test_sixteen_is_counted_from_the_birthday_itself():
    today = timezone.localdate()
    sixteen_today = birth_date_cutoff(today)
    ContactFactory(birth_date=sixteen_today)
    ContactFactory(birth_date=sixteen_today + timedelta(days=1))
    assert privacy_report().contacts_under_16 == 1


def test_the_cutoff_is_the_same_day_sixteen_years_earlier_or_the_28th_without_a_29th():
    assert birth_date_cutoff(date(2028, 2, 29)) == date(2012, 2, 29)
    assert birth_date_cutoff(date(2029, 3, 1)) == date(2013, 3, 1)
    # 2100 is not a leap year.
    assert birth_date_cutoff(date(2116, 2, 29)) == date(2100, 2, 28)
