"""Signed click links: what the sent mail carries, answered with no query, forged ones refused."""

import re
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

import pytest
from django.core import signing
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

from campaigns import links
from campaigns.models import MessageEvent
from campaigns.tracking.flush import flush_hits
from campaigns.tracking.mail import decide_tracking, tracked_html
from campaigns.tracking.tokens import click_token
from campaigns.tracking.visitors import REFERENCE_SALT
from config.log_filters import redact
from privacy.consent.tracking import set_tracking_basis
from privacy.models import TrackingBasis
from tests.campaigns.factories import MessageFactory, TrackedLinkFactory
from tests.campaigns.test_tracking import buffered

pytestmark = pytest.mark.django_db


def sent_click_path(message, link) -> str:
    """Decide the tracking of the message as a send does; return the path of its link's click."""
    decide_tracking(message.campaign, [message])
    html = tracked_html(
        f'<a href="{link.url}">Offer</a>', message=message, link_ids={link.url: link.pk}
    )
    found = re.search(r'href="https?://[^/"]+(/t/k/[^"]+)"', html)
    return found.group(1)


def test_a_signed_click_redirects_and_records_the_same_event_as_an_old_unsigned_one(client):
    old = MessageFactory()
    new = MessageFactory(campaign=old.campaign)
    link = TrackedLinkFactory(campaign=old.campaign)
    old_response = client.get(f"/t/c/{old.token}/{link.pk}/")
    new_response = client.get(sent_click_path(new, link))
    assert new_response.status_code == old_response.status_code == 302
    assert new_response["Location"].split("?crm_v=")[0] == link.url
    assert "crm_v=" in old_response["Location"] and "crm_v=" in new_response["Location"]
    assert flush_hits().events == 2
    events = MessageEvent.objects.filter(kind="clicked", link=link)
    assert {event.message_id for event in events} == {old.pk, new.pk}


def test_a_link_keeps_its_own_query_and_fragment_when_the_reference_is_added(client):
    message = MessageFactory()
    link = TrackedLinkFactory(
        campaign=message.campaign, url="https://www.example.org/offer?size=m&q=a+b%20c#prices"
    )

    location = client.get(sent_click_path(message, link))["Location"]

    address, fragment = location.split("#")
    assert fragment == "prices"
    assert address.startswith("https://www.example.org/offer?size=m&q=a+b%20c&crm_v=")
    reference = address.split("&crm_v=")[1]
    assert signing.TimestampSigner(salt=REFERENCE_SALT).unsign(unquote(reference))


def test_tracking_answers_carry_the_headers_django_marks_never_cached_answers_with(client):
    message = MessageFactory()
    link = TrackedLinkFactory(campaign=message.campaign)
    expected = HttpResponse()
    add_never_cache_headers(expected)

    for response in (
        client.get(f"/t/o/{message.token}.gif"),
        client.get(f"/t/c/{message.token}/{link.pk}/"),
        client.get(sent_click_path(message, link)),
    ):
        assert response["Cache-Control"] == expected["Cache-Control"]
        expires = parsedate_to_datetime(response["Expires"])
        assert abs((expires - parsedate_to_datetime(expected["Expires"])).total_seconds()) <= 2


def test_signed_click_and_pixel_run_no_query_once_the_process_knows_the_link(
    client, django_assert_num_queries
):
    first = MessageFactory()
    link = TrackedLinkFactory(campaign=first.campaign)
    client.get(sent_click_path(first, link))
    other = MessageFactory(campaign=first.campaign)
    path = sent_click_path(other, link)
    with django_assert_num_queries(0):
        assert client.get(path)["Location"].startswith(f"{link.url}?crm_v=")
        assert client.get(f"/t/o/{other.token}.gif").status_code == 200
    assert flush_hits().events == 3


def test_no_visitor_reference_is_offered_when_the_sender_tracks_no_web_activity(client, admin_user):
    message = MessageFactory()
    set_tracking_basis(
        client=None,
        email_tracking=TrackingBasis.Basis.CONSENT,
        web_activity=TrackingBasis.Basis.OFF,
        actor=admin_user,
    )
    link = TrackedLinkFactory(campaign=message.campaign)
    assert client.get(sent_click_path(message, link))["Location"] == link.url


def test_an_untracked_message_has_plain_links_and_no_signed_click(client):
    message = MessageFactory(tracked=False)
    link = TrackedLinkFactory(campaign=message.campaign)
    html = tracked_html(f'<a href="{link.url}">Offer</a>', message=message, link_ids={link.url: 1})
    assert html == f'<a href="{link.url}">Offer</a>'


@pytest.mark.parametrize("change", ["tampered", "forged", "cut", "garbage"])
def test_a_forged_or_tampered_signed_click_gets_404_never_a_redirect(client, settings, change):
    message = MessageFactory()
    link = TrackedLinkFactory(campaign=message.campaign)
    elsewhere = TrackedLinkFactory(url="https://evil.example.net/")
    path = sent_click_path(message, link)
    value = path.split("/")[3]
    if change == "tampered":
        fields = value.split(".")
        fields[2] = signing.b62_encode(elsewhere.pk)
        path = f"/t/k/{'.'.join(fields)}/"
    elif change == "forged":
        ours = settings.SECRET_KEY
        settings.SECRET_KEY = "another-key-of-someone-else-xxxxxxxxxxxxxxx"
        forged = click_token(
            token=message.token, message_id=message.pk, link_id=elsewhere.pk, offers_web=False
        )
        settings.SECRET_KEY = ours
        path = f"/t/k/{forged}/"
    elif change == "cut":
        path = f"/t/k/{value[:-2]}xx/"
    else:
        path = "/t/k/not.a.signed.value/"
    response = client.get(path)
    assert response.status_code == 404
    assert "Location" not in response
    assert buffered() == []


def test_the_signed_click_url_is_compact_and_url_safe(settings):
    url = links.signed_click_url(token="a" * 43, message_id=10**9, link_id=10**7, offers_web=True)
    assert re.fullmatch(r"https?://[^/]+/t/k/[A-Za-z0-9_.-]+/", url)
    assert len(url.split("/t/k/")[1]) < 120


def test_a_signed_click_path_is_redacted_in_logs():
    path = links.signed_click_url(token="secret-token", message_id=1, link_id=2, offers_web=False)
    assert "secret-token" not in redact(f"GET {path} 302")
    assert "/t/k/[token]" in redact(f"GET {path} 302")
