"""Campaign reports in the admin, as CSV and in the API: aggregates only, small countries folded."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from campaigns.models import CampaignVersion, MessageEvent
from campaigns.reports import campaign_report
from tests.campaigns.factories import (
    CampaignFactory,
    MessageEventFactory,
    MessageFactory,
    TrackedLinkFactory,
)
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db
Kind = MessageEvent.Kind


@pytest.fixture
def campaign():
    """A sent campaign: 12 recipients in the Netherlands, 1 in Belgium, 2 links clicked."""
    campaign = CampaignFactory(name="Spring letter", sent=True)
    first = TrackedLinkFactory(campaign=campaign, url="https://www.example.org/spring")
    second = TrackedLinkFactory(campaign=campaign, url="https://www.example.org/shop")
    start = timezone.now() - timedelta(hours=5)
    people = [
        ContactFactory(first_name=f"Zebedee{i}", last_name="Quibble", email=f"zq{i}@example.org")
        for i in range(14)
    ]
    messages = [MessageFactory(campaign=campaign, contact=person) for person in people]
    for i, message in enumerate(messages[:12]):
        MessageEventFactory(message=message, kind=Kind.DELIVERED, occurred_at=start)
        MessageEventFactory(message=message, kind=Kind.OPENED, country="NL", occurred_at=start)
        if i < 3:
            MessageEventFactory(
                message=message,
                kind=Kind.OPENED,
                country="NL",
                occurred_at=start + timedelta(hours=2),
            )
            MessageEventFactory(
                message=message, kind=Kind.CLICKED, link=first, country="NL", occurred_at=start
            )
    MessageEventFactory(
        message=messages[0], kind=Kind.CLICKED, link=second, country="NL", occurred_at=start
    )
    MessageEventFactory(message=messages[12], kind=Kind.OPENED, country="BE", occurred_at=start)
    MessageEventFactory(message=messages[13], kind=Kind.BOUNCED, detail="hard", occurred_at=start)
    MessageEventFactory(message=messages[1], kind=Kind.UNSUBSCRIBED, occurred_at=start)
    MessageEventFactory(message=messages[2], kind=Kind.COMPLAINED, occurred_at=start)
    return campaign


def personal_values(campaign) -> list[str]:
    """Every name, address and token of the campaign's recipients."""
    values = []
    for message in campaign.messages.select_related("contact"):
        values += [message.contact.email, message.contact.first_name, message.token]
    values.append("Quibble")
    return values


def test_the_report_counts_unique_messages_and_totals(campaign, settings):
    settings.REPORT_MIN_COUNTRY_BUCKET = 10
    report = campaign_report(campaign=campaign)
    assert report.sent == 14
    assert (report.delivered.unique, report.delivered.total) == (12, 12)
    assert (report.opened.unique, report.opened.total) == (13, 16)
    assert (report.clicked.unique, report.clicked.total) == (3, 4)
    assert (report.bounced.unique, report.hard_bounced) == (1, 1)
    assert (report.unsubscribed.unique, report.complained.unique) == (1, 1)
    assert [(link.url, link.unique, link.total) for link in report.links] == [
        ("https://www.example.org/spring", 3, 3),
        ("https://www.example.org/shop", 1, 1),
    ]
    # Belgium has one recipient: below the minimum, it is folded into Other.
    assert [(c.name, c.recipients) for c in report.countries] == [("Netherlands", 12), ("Other", 1)]
    assert report.bucket == "hour"
    assert [(b.opened, b.clicked) for b in report.timeline] == [(13, 4), (0, 0), (3, 0)]


def test_a_lower_minimum_shows_the_small_country(campaign):
    report = campaign_report(campaign=campaign, min_bucket=1)
    assert [c.code for c in report.countries] == ["NL", "BE"]


def test_a_long_campaign_is_shown_per_day(campaign):
    message = campaign.messages.first()
    MessageEventFactory(
        message=message, kind=Kind.OPENED, occurred_at=timezone.now() + timedelta(days=5)
    )
    report = campaign_report(campaign=campaign)
    assert report.bucket == "day"
    assert sum(b.opened for b in report.timeline) == 17


def test_the_admin_report_shows_charts_and_counts_and_no_person(admin_client, campaign):
    response = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="report-chart"') == 3
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [], "no inline script"
    assert "https://www.example.org/spring" in page
    assert "Netherlands" in page and "Belgium" not in page
    for value in personal_values(campaign):
        assert value not in page


def test_the_csv_report_has_no_person_and_neutralises_formulas(admin_client, campaign):
    campaign.name = "=HYPERLINK(1)"
    campaign.save()
    response = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/csv/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response).decode() if response.streaming else response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["campaign", "'=HYPERLINK(1)", "", ""]
    assert ["summary", "Opened (unknown)", "13", "16"] in rows
    assert ["visits after a click", "Visitors", "0", ""] in rows
    assert ["country (at least 10)", "Other", "1", ""] in rows
    for value in personal_values(campaign):
        assert value not in text


def test_the_api_gives_the_statistics_without_people(client, staff_token, campaign):
    auth = {"HTTP_AUTHORIZATION": f"Token {staff_token}"}
    listing = client.get("/api/v1/campaigns/", **auth)
    assert listing.status_code == 200
    assert listing.json()["results"][0]["name"] == "Spring letter"
    response = client.get(f"/api/v1/campaigns/{campaign.pk}/stats/", **auth)
    assert response.status_code == 200
    stats = response.json()
    assert stats["opened"] == {"unique": 13, "total": 16}
    assert stats["countries"] == [
        {"code": "NL", "name": "Netherlands", "recipients": 12},
        {"code": "", "name": "Other", "recipients": 1},
    ]
    for value in personal_values(campaign):
        assert value not in response.content.decode()


def test_the_api_names_the_campaigns_languages_default_first(client, staff_token, campaign):
    CampaignVersion.objects.create(
        campaign=campaign, language="ro", subject="Salut", html_body="<p>Salut</p>", text_body="S"
    )
    CampaignVersion.objects.create(
        campaign=campaign, language="nl", subject="Hoi", html_body="<p>Hoi</p>", text_body="Hoi"
    )
    auth = {"HTTP_AUTHORIZATION": f"Token {staff_token}"}
    [listed] = client.get("/api/v1/campaigns/", **auth).json()["results"]
    assert (listed["language"], listed["languages"]) == ("en", ["en", "nl", "ro"])
    assert (listed["subject_b"], listed["ab_winner"]) == ("", "")


def test_the_api_is_read_only(client, staff_token, campaign):
    auth = {"HTTP_AUTHORIZATION": f"Token {staff_token}"}
    assert client.post("/api/v1/campaigns/", {}, **auth).status_code == 405
    assert client.delete(f"/api/v1/campaigns/{campaign.pk}/", **auth).status_code == 405


def test_the_api_list_runs_a_fixed_number_of_queries(
    client, staff_token, campaign, django_assert_max_num_queries
):
    CampaignFactory.create_batch(5, sent=True)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/campaigns/", HTTP_AUTHORIZATION=f"Token {staff_token}")
    assert len(response.json()["results"]) == 6


def test_the_schema_documents_the_statistics(admin_client):
    schema = admin_client.get("/api/schema/").content.decode()
    assert "/api/v1/campaigns/{id}/stats/" in schema
    assert "CampaignStatsOutput" in schema


def test_staff_without_the_permission_get_403(client, django_user_model, campaign):
    user = django_user_model.objects.create_user("viewer", password="x" * 16, is_staff=True)
    client.force_login(user)
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/").status_code == 403
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/csv/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/").status_code == 200


def test_the_public_cannot_open_a_report(client, campaign):
    response = client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_unknown_campaign_is_404(admin_client):
    assert admin_client.get("/admin/campaigns/campaign/999999/report/").status_code == 404


def test_a_campaign_without_events_has_an_empty_report(admin_client):
    campaign = CampaignFactory(sent=True)
    response = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/")
    assert response.status_code == 200
    assert "No opens or clicks recorded." in response.content.decode()


def test_the_api_needs_the_campaign_view_permission(client, django_user_model, campaign):
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user("integrator", password="x" * 16, is_staff=True)
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/stats/", **auth).status_code == 403
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/stats/").status_code == 401
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/stats/", **auth).status_code == 200
