import pytest
from django.core import mail
from django.core.management import call_command

from campaigns.models import Campaign, Message

pytestmark = pytest.mark.django_db


def test_the_demo_has_one_ready_to_send_campaign_that_sends(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SENDING_RATE_PER_WORKER = 0
    call_command("seed_demo")
    call_command("seed_demo")
    campaign = Campaign.objects.get(name="Demo: spring newsletter")
    assert campaign.status == Campaign.Status.DRAFT

    call_command("send_campaign", str(campaign.pk), "--foreground")

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    sent = Message.objects.filter(status=Message.Status.SENT).count()
    assert sent == len(mail.outbox) > 0
    assert all(email.to[0].endswith(".example.org") for email in mail.outbox)
    # Dutch readers get the Dutch version, the others the English one.
    languages = dict(Message.objects.values_list("contact__language", "language").distinct())
    assert languages.get("nl") == "nl"
    assert {language for reader, language in languages.items() if reader != "nl"} <= {"en"}
    dutch = [email for email in mail.outbox if email.extra_headers["Content-Language"] == "nl"]
    assert dutch and all(email.subject.startswith("Lentenieuws voor ") for email in dutch)
