"""The statement names the controller, a privacy contact and the authority (art. 13, 14)."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from privacy.accountability.checks import privacy_report
from privacy.consent.subscriptions import request_subscription
from privacy.models import Processor
from tests.privacy.pages import text
from tests.privacy.subscription_steps import mail_confirmations

pytestmark = pytest.mark.django_db

CONTROLLER = {
    "CONTROLLER_NAME": "Tegel & Co B.V.",
    "CONTROLLER_ADDRESS": "Havenstraat 1, 1011 AA Amsterdam, Netherlands",
    "PRIVACY_CONTACT": "Data protection officer, privacy@tegel.example.org",
    "SUPERVISORY_AUTHORITY": "Autoriteit Persoonsgegevens, https://www.autoriteitpersoonsgegevens.nl/",
}


@pytest.fixture
def configured(settings):
    for name, value in CONTROLLER.items():
        setattr(settings, name, value)


def test_the_privacy_page_names_the_controller_the_contact_and_the_authority(client, configured):
    page = text(client.get("/privacy/"))

    assert "Who is responsible, and whom to ask" in page
    for value in CONTROLLER.values():
        assert value.replace("&", "&amp;") in page
    dutch = text(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl"))
    assert "Toezichthoudende autoriteit (waar u een klacht kunt indienen)" in dutch


def test_every_mail_to_a_data_subject_ends_with_the_controller(configured, newsletter, settings):
    request_subscription(
        email="ines.moreau@example.org", name="Ines", purpose_codes=[newsletter.code], language="en"
    )
    mail_confirmations()

    (confirmation,) = mail.outbox
    assert confirmation.body.rstrip().endswith(
        "Supervisory authority: Autoriteit Persoonsgegevens, "
        "https://www.autoriteitpersoonsgegevens.nl/"
    )
    assert "Controller: Tegel & Co B.V., Havenstraat 1" in confirmation.body
    html = confirmation.alternatives[0][0]
    assert "Privacy questions: Data protection officer, privacy@tegel.example.org" in html
    assert "Tegel &amp; Co B.V." in html


def test_privacy_check_fails_in_production_while_a_controller_setting_is_blank(settings, capsys):
    settings.EMBEDDED = False
    settings.PRIVACY_CONTACT = ""
    for name in ("CONTROLLER_NAME", "CONTROLLER_ADDRESS", "SUPERVISORY_AUTHORITY"):
        setattr(settings, name, CONTROLLER[name])

    assert privacy_report().controller_settings_missing == ["PRIVACY_CONTACT"]
    with pytest.raises(CommandError, match="Controller settings left blank"):
        call_command("privacy_check")

    settings.PRIVACY_CONTACT = CONTROLLER["PRIVACY_CONTACT"]
    assert privacy_report().controller_settings_missing == []


def test_a_processor_without_a_signed_agreement_is_flagged(admin_client, configured, capsys):
    Processor.objects.all().delete()
    Processor.objects.create(name="Mailhouse Ltd", service="E-mail delivery", location="Ireland")

    listing = text(admin_client.get("/admin/privacy/processor/"))
    assert "NO SIGNED AGREEMENT" in listing
    call_command("privacy_check")
    assert "Processors without a signed agreement date (art. 28(3)): 1 (Mailhouse Ltd)" in (
        capsys.readouterr().out
    )


def test_a_campaign_mail_carries_the_same_footer(configured):
    from campaigns.sending.mail import build_email
    from tests.campaigns.factories import CampaignFactory, MessageFactory

    message = MessageFactory(campaign=CampaignFactory(sent=True))

    email = build_email(message.campaign, message, message.contact, {})

    assert "Controller: Tegel & Co B.V." in email.body
    assert "Tegel &amp; Co B.V." in email.alternatives[0][0]
