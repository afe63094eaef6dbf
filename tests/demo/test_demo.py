import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from campaigns.reports import campaign_report
from crm.models import Company, Contact, ContactSource, ImportBatch, Interaction
from privacy.accountability.checks import privacy_report
from privacy.models import Breach, ConsentEvent, SubjectRequest

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_every_contact_has_provenance(capsys):
    call_command("seed_demo")
    counts = (
        ConsentEvent.objects.count(),
        Company.objects.count(),
        Contact.objects.count(),
        ContactSource.objects.count(),
        Interaction.objects.count(),
    )
    call_command("seed_demo")
    assert (
        ConsentEvent.objects.count(),
        Company.objects.count(),
        Contact.objects.count(),
        ContactSource.objects.count(),
        Interaction.objects.count(),
    ) == counts
    assert "0 added by this run" in capsys.readouterr().out
    assert counts[0] > 0
    assert counts[2] >= 50
    assert Contact.objects.values("country").distinct().count() >= 6
    report = privacy_report()
    assert report.contacts_without_provenance == 0
    # Only the people of the sample list imported by the demo wait for their art. 14 notice: the
    # tour's step that sends the due notices now has someone to write to.
    imported = ImportBatch.objects.get()
    assert report.indirect_contacts_not_informed == imported.created > 0
    domains = {
        email.rpartition("@")[2] for email in Contact.objects.values_list("email", flat=True)
    }
    assert all(d.endswith((".example.org", ".example.net")) for d in domains)


def test_the_demo_fills_every_screen_of_the_tour():
    call_command("seed_demo")

    sent = Campaign.objects.get(status=Campaign.Status.SENT)
    report = campaign_report(campaign=sent, min_bucket=1)
    assert report.sent > 0
    assert report.delivered.unique >= report.sent - 1
    assert report.hard_bounced == 1
    assert report.opened.unique > 0 and report.clicked.unique > 0
    assert Campaign.objects.filter(status=Campaign.Status.DRAFT).count() == 1
    assert set(SubjectRequest.objects.values_list("status", flat=True)) == set(
        SubjectRequest.Status.values
    )
    assert Breach.objects.filter(closed_at__isnull=True).count() == 1
    batch = ImportBatch.objects.get()
    assert batch.status == "completed"
    assert batch.rejected_by_reason == {"duplicate": 1, "invalid_email": 1, "missing_field": 1}
