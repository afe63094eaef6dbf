import pytest
from django.core.management import call_command

from crm.models import Company, Contact, ContactSource, Interaction
from privacy.accountability.checks import privacy_report
from privacy.models import ConsentEvent

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
    assert report.indirect_contacts_not_informed == 0
    domains = {
        email.rpartition("@")[2] for email in Contact.objects.values_list("email", flat=True)
    }
    assert all(d.endswith((".example.org", ".example.net")) for d in domains)
