"""Progress of a campaign being sent: on the audience page, live, and as a bar in the CLI."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.sending import batches, starting, states
from campaigns.sending.progress import sending_progress
from tests.campaigns.factories import CampaignFactory
from tests.crm.factories import ContactFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SENDING_RATE_PER_WORKER = 0
    NoticeVersionFactory()
    purpose = PurposeFactory()
    for person in ContactFactory.create_batch(6):
        grant(person, purpose)
    return CampaignFactory(purpose=purpose)


def test_the_audience_page_shows_counts_to_go_and_an_estimate_while_sending(campaign, admin_client):
    starting.start_sending(campaign=campaign, on_workers=False)
    Campaign.objects.filter(pk=campaign.pk).update(
        started_at=timezone.now() - timedelta(seconds=20)
    )
    batches.send_batch(campaign_id=campaign.pk, size=2)

    page = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/audience/").text

    assert 'id="campaign-progress" data-live-refresh="3" aria-live' in page
    # Two messages in 20 seconds: four more take about 40 seconds at that pace.
    assert re.search(r"33%: sent 2, skipped 0, failed 0, to go 4; about 4\d s left", page)
    assert "core/live_refresh.js" in page

    while batches.has_queued(campaign.pk):
        batches.send_batch(campaign_id=campaign.pk, size=2)
    states.finish_if_done(campaign.pk)
    done = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/audience/").text
    assert "data-live-done" in done
    assert "100%: sent 6, skipped 0, failed 0, to go 0." in done


def test_the_command_prints_a_progress_bar_per_batch(campaign, settings, capsys):
    settings.SENDING_BATCH_SIZE = 4

    call_command("send_campaign", str(campaign.pk), "--foreground")

    out = capsys.readouterr().out
    assert "[###################...........]  66%  sent 4, skipped 0, failed 0, to go 2" in out, out
    assert "100%  sent 6, skipped 0, failed 0, to go 0" in out
    assert sending_progress(Campaign.objects.get(pk=campaign.pk)).finished
