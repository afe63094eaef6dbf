import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Source
from privacy.checks import privacy_report
from privacy.registry import registry
from tests.crm.factories import ContactFactory, ContactSourceFactory

pytestmark = pytest.mark.django_db


def test_report_counts_contacts_without_provenance_and_uninformed_indirect_ones():
    ContactFactory()
    ContactSourceFactory(source__kind=Source.Kind.BUSINESS_DIRECTORY, informed_at=None)
    ContactSourceFactory(source__kind=Source.Kind.WEB_FORM)
    report = privacy_report()
    assert report.contacts_without_provenance == 1
    assert report.indirect_contacts_not_informed == 1
    assert not report.ok


def test_command_prints_counts_and_succeeds_when_the_registry_is_complete(capsys):
    ContactSourceFactory()
    call_command("privacy_check")
    out = capsys.readouterr().out
    assert "Contacts without provenance: 0" in out
    assert "Every personal-data model is declared." in out


def test_command_fails_when_a_personal_model_is_undeclared(monkeypatch):
    from crm.models import Interaction

    declaration = registry.declarations.pop(Interaction)
    try:
        with pytest.raises(CommandError, match="not in the registry"):
            call_command("privacy_check")
    finally:
        registry.declarations[Interaction] = declaration
