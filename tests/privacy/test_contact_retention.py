"""Retention covers every kind of contact; the objection form offers what art. 21 applies to."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from crm.models import Contact, Source
from privacy.accountability.checks import privacy_report
from privacy.accountability.indirect_notices import send_indirect_notices
from privacy.deletion.retention import run_rule
from privacy.models import Purpose, RetentionRule, SubjectRequest
from tests.crm.factories import ContactFactory, ContactSourceFactory
from tests.privacy.factories import PurposeFactory
from tests.privacy.pages import text
from tests.privacy.request_steps import isolate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("controller_named")]


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def rule(kind: str) -> RetentionRule:
    """The seeded rule of this kind, active with its default period."""
    return RetentionRule.objects.get(kind=kind, is_active=True)


def found(email: str, relationship: str, *, obtained: datetime, active: datetime | None = None):
    """A contact found in a public directory on `obtained`, last acting on `active` (or never)."""
    contact = ContactFactory(email=email, relationship=relationship)
    ContactSourceFactory(
        contact=contact, source__kind=Source.Kind.BUSINESS_DIRECTORY, collected_at=obtained
    )
    Contact.objects.filter(pk=contact.pk).update(last_activity_at=active)
    return contact


def remaining() -> set[str]:
    return set(Contact.objects.values_list("email", flat=True))


def test_an_inactive_prospect_found_in_march_2024_is_removed_by_the_seeded_rule():
    now = timezone.now()
    found("march.2024@example.org", "prospect", obtained=datetime(2024, 3, 1, tzinfo=now.tzinfo))
    found("last.year@example.org", "prospect", obtained=now - timedelta(days=365))
    found(
        "acted.lately@example.org",
        "prospect",
        obtained=now - timedelta(days=1500),
        active=now - timedelta(days=100),
    )
    found("customer@example.org", "customer", obtained=now - timedelta(days=900), active=now)

    run = run_rule(rule("inactive_prospects"), now=now)

    assert run.acted == 1
    assert remaining() == {
        "last.year@example.org",
        "acted.lately@example.org",
        "customer@example.org",
    }


def test_employees_of_clients_and_partners_expire_after_three_years_without_activity():
    now = timezone.now()
    found("old.partner@example.net", "partner_employee", obtained=now - timedelta(days=1200))
    found("old.client@example.net", "client_employee", obtained=now - timedelta(days=1100))
    found("new.client@example.net", "client_employee", obtained=now - timedelta(days=800))

    run_rule(rule("inactive_business_contacts"), now=now)

    assert remaining() == {"new.client@example.net"}


def test_the_public_page_and_the_art_14_notice_state_the_period(client):
    page = text(client.get("/privacy/"))
    assert "Prospects, since their last own activity" in page
    assert "Employees of clients and partners" in page
    dutch = text(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl"))
    assert "Medewerkers van klanten en partners" in dutch
    found("joost.willems@example.org", "prospect", obtained=timezone.now() - timedelta(days=1))

    send_indirect_notices()

    (notice,) = mail.outbox
    assert "We keep them until 730 days have passed since your last contact with us" in notice.body


def test_privacy_check_fails_while_a_kind_of_contact_has_no_active_rule(capsys):
    assert privacy_report().relationships_without_retention == []
    RetentionRule.objects.filter(kind="inactive_prospects").update(is_active=False)

    assert privacy_report().relationships_without_retention == ["prospect"]
    with pytest.raises(Exception, match="Kinds of contact no active retention rule expires"):
        call_command("privacy_check")


def test_the_objection_form_lists_legitimate_interest_and_points_consent_to_withdrawal(client):
    PurposeFactory(
        code="b2b_prospecting",
        name="Business prospecting",
        legal_basis=Purpose.LegalBasis.LEGITIMATE_INTEREST,
    )
    letter = PurposeFactory(code="monthly_letter", name="Monthly letter")

    form = text(client.get("/privacy/requests/new/"))
    assert "Business prospecting" in form
    assert "What you agreed to (" in form
    assert "Monthly letter" in form.split("What you agreed to (")[1].split(")")[0]
    refused = client.post(
        "/privacy/requests/new/",
        {"kind": "objection", "email": "ines@example.org", "purposes": [letter.pk]},
    )

    assert refused.status_code == 200
    assert "purposes" in refused.context["form"].errors
    assert not SubjectRequest.objects.exists()
