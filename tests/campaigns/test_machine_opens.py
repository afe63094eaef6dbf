"""Machine-made opens and clicks (privacy proxies, link scanners): reported apart, not activity."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import MessageEvent
from campaigns.reports import campaign_report, summary_rows
from campaigns.tracking.flush import flush_hits
from campaigns.tracking.machines import HUMAN, MACHINE, UNKNOWN, agent_class
from crm.models import Contact
from tests.campaigns.factories import MessageFactory, TrackedLinkFactory

pytestmark = pytest.mark.django_db

APPLE_MAIL = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
APPLE_PRIVACY_PROXY = "Mozilla/5.0"
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel URL scanner)"
Origin = MessageEvent.Origin


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (APPLE_MAIL, HUMAN),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.0",
            HUMAN,
        ),
        (
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
            "GoogleImageProxy)",
            HUMAN,
        ),
        (APPLE_PRIVACY_PROXY, MACHINE),
        (SCANNER, MACHINE),
        ("python-requests/2.32", MACHINE),
        ("", UNKNOWN),
        ("SomethingElse/1.0", UNKNOWN),
    ],
)
def test_the_user_agent_is_reduced_to_what_it_says_of_its_sender(agent, expected):
    assert agent_class(agent) == expected


def origins(message) -> list[str]:
    return sorted(MessageEvent.objects.filter(message=message).values_list("origin", flat=True))


def test_a_privacy_proxy_open_is_a_machines_and_not_the_persons_activity(client):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=APPLE_PRIVACY_PROXY)
    flush_hits()
    assert origins(message) == [Origin.MACHINE]
    assert Contact.objects.get(pk=message.contact_id).last_activity_at is None
    report = campaign_report(campaign=message.campaign)
    assert report.opened_by[Origin.MACHINE].unique == 1
    assert report.opened_by[Origin.HUMAN].unique == 0
    assert report.countries == [] and report.timeline == [], "a proxy's fetch is nobody's open"


def test_an_open_seconds_after_sending_is_a_machines_even_with_a_browsers_agent(client):
    message = MessageFactory(sent_at=timezone.now() - timedelta(seconds=5))
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=APPLE_MAIL)
    flush_hits()
    assert origins(message) == [Origin.MACHINE]


def test_a_later_open_from_a_mail_client_is_human_and_activity(client):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=APPLE_MAIL)
    client.get(f"/t/o/{message.token}.gif")  # no user agent at all
    flush_hits()
    assert origins(message) == [Origin.HUMAN, Origin.UNKNOWN]
    assert Contact.objects.get(pk=message.contact_id).last_activity_at is not None


def test_a_scanner_following_every_link_at_once_is_a_machine_across_flushes(client):
    message = MessageFactory()
    first = TrackedLinkFactory(campaign=message.campaign)
    second = TrackedLinkFactory(campaign=message.campaign)
    client.get(f"/t/c/{message.token}/{first.pk}/", HTTP_USER_AGENT=APPLE_MAIL)
    flush_hits()
    assert origins(message) == [Origin.HUMAN], "one click alone looks like the person"
    client.get(f"/t/c/{message.token}/{second.pk}/", HTTP_USER_AGENT=APPLE_MAIL)
    flush_hits()
    assert origins(message) == [Origin.MACHINE, Origin.MACHINE]
    report = campaign_report(campaign=message.campaign)
    assert report.clicked_by[Origin.MACHINE].total == 2
    assert report.clicked_by[Origin.HUMAN].total == 0


def test_the_report_says_opened_human_machine_and_unknown(client):
    human, proxy, unknown = MessageFactory.create_batch(3)
    campaign = human.campaign
    for message in (proxy, unknown):
        message.campaign = campaign
        message.save()
    client.get(f"/t/o/{human.token}.gif", HTTP_USER_AGENT=APPLE_MAIL)
    client.get(f"/t/o/{proxy.token}.gif", HTTP_USER_AGENT=APPLE_PRIVACY_PROXY)
    client.get(f"/t/o/{unknown.token}.gif")
    flush_hits()
    rows = {
        label: tally.unique for label, tally in summary_rows(campaign_report(campaign=campaign))
    }
    assert rows["Opened (human)"] == 1
    assert rows["Opened (machine)"] == 1
    assert rows["Opened (unknown)"] == 1


def test_the_admin_report_shows_the_origins(admin_client, client):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=APPLE_PRIVACY_PROXY)
    flush_hits()
    page = admin_client.get(f"/admin/campaigns/campaign/{message.campaign_id}/report/")
    text = page.content.decode()
    assert "Opened (human)" in text and "Opened (machine)" in text and "Opened (unknown)" in text
    assert "Visits after a click" in text


def test_the_api_statistics_give_opens_by_origin_and_the_visits(client, staff_token):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=APPLE_PRIVACY_PROXY)
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=APPLE_MAIL)
    flush_hits()
    stats = client.get(
        f"/api/v1/campaigns/{message.campaign_id}/stats/",
        HTTP_AUTHORIZATION=f"Token {staff_token}",
    ).json()
    assert stats["opened"] == {"unique": 1, "total": 2}
    assert stats["opened_by"] == {
        "human": {"unique": 1, "total": 1},
        "machine": {"unique": 1, "total": 1},
        "unknown": {"unique": 0, "total": 0},
    }
    assert stats["visits"] == {"page_views": 0, "downloads": 0, "visitors": 0}
