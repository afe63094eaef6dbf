"""Mail written to files counts as delivered, through the same path as a provider's webhook."""

import pytest
from django.core.mail import send_mail
from django.core.management import call_command
from django.test import Client as HttpClient

from campaigns.local_delivery import record_local_deliveries
from campaigns.models import Campaign, Message, MessageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_to_files(settings, tmp_path):
    settings.EMAIL_BACKEND = "campaigns.local_delivery.FileDeliveryBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.SENDING_RATE_PER_WORKER = 0
    return tmp_path / "mail"


def _send_demo_campaign() -> Campaign:
    call_command("seed_demo")
    campaign = Campaign.objects.get(name="Demo: spring newsletter")
    call_command("send_campaign", str(campaign.pk), "--foreground")
    return campaign


def test_the_demo_report_shows_every_message_written_to_files_as_delivered(
    mail_to_files, admin_user
):
    campaign = _send_demo_campaign()

    sent = Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count()
    assert sent > 0
    written = "".join(path.read_text() for path in mail_to_files.iterdir())
    tokens = Message.objects.filter(campaign=campaign).values_list("token", flat=True)
    assert all(f"X-CRM-Message: {token}" in written for token in tokens)
    browser = HttpClient()
    browser.force_login(admin_user)
    csv = browser.get(f"/admin/campaigns/campaign/{campaign.pk}/report/csv/").content.decode()
    assert f"summary,Delivered,{sent},{sent}" in csv.splitlines()


def test_a_message_reported_again_is_delivered_once_and_other_mail_records_nothing(
    mail_to_files,
):
    campaign = _send_demo_campaign()
    delivered = MessageEvent.objects.filter(kind=MessageEvent.Kind.DELIVERED).count()
    message = Message.objects.filter(campaign=campaign).first()

    send_mail("Hello", "A plain note.", None, ["anna@example.org"])
    again = type("Written", (), {"extra_headers": {"X-CRM-Message": message.token}})()

    assert record_local_deliveries([again]) == 0
    assert MessageEvent.objects.filter(kind=MessageEvent.Kind.DELIVERED).count() == delivered
    assert len(list(mail_to_files.iterdir())) >= 2
