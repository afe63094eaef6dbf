"""Recipients open and click a campaign; staff read its report in the browser, without people."""

import pytest
from django.contrib.auth import get_user_model

from campaigns.links import click_url, open_pixel_url
from campaigns.models import MessageEvent
from campaigns.tracking import hits
from campaigns.tracking.flush import flush_hits
from tests.campaigns.factories import CampaignFactory, MessageFactory, TrackedLinkFactory
from tests.crm.factories import ContactFactory
from tests.e2e.conftest import log_in_as_staff, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_tracking_buffer(settings, tmp_path):
    """An empty buffer of its own, and no link remembered from another test's ids."""
    hits._LINKS.clear()
    settings.TRACKING_BUFFER = "sqlite"
    settings.TRACKING_BUFFER_PATH = tmp_path / "tracking-hits.sqlite3"


def test_opens_and_clicks_from_the_mail_show_in_the_report_as_counts_only(visitor_factory):
    campaign = CampaignFactory(name="Autumn letter", sent=True)
    link = TrackedLinkFactory(campaign=campaign, url="https://www.example.org/autumn")
    readers = [
        MessageFactory(
            campaign=campaign,
            contact=ContactFactory(email=f"reader{n}@example.net", first_name=f"Reader{n}"),
        )
        for n in range(3)
    ]
    recipient = visitor_factory("nl-NL")
    for message in readers[:2]:
        pixel = recipient.page.request.get(open_pixel_url(message.token))
        assert pixel.status == 200 and pixel.headers["content-type"] == "image/gif"
    click = recipient.page.request.get(click_url(readers[0].token, link.pk), max_redirects=0)
    assert click.status == 302
    assert click.headers["location"].startswith("https://www.example.org/autumn?crm_v=")
    forged = recipient.page.request.get(click_url("not-a-token", link.pk), max_redirects=0)
    assert forged.status == 404
    flush_hits()
    assert MessageEvent.objects.filter(kind="opened").count() == 2

    admin = get_user_model().objects.create_superuser(
        "analyst", "analyst@example.org", "a long demo passphrase"
    )
    staff = visitor_factory("en-GB")
    log_in_as_staff(staff, admin, "a long demo passphrase")
    page = staff.open(f"/admin/campaigns/campaign/{campaign.pk}/report/")

    summary = page.locator("#report-summary").inner_text()
    assert "Opened" in summary and "2" in summary
    assert "https://www.example.org/autumn" in page.locator("#report-links").inner_text()
    assert page.locator("svg.report-chart").count() >= 1
    text = page.locator("#content-main").inner_text()
    assert "example.net" not in text and "Reader" not in text
    screenshot(page, "campaign-report")
