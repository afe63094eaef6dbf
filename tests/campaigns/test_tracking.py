"""Open pixel and click redirect: buffered hits, countries without addresses, flushed as events."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import MessageEvent, TrackingFlush
from campaigns.tracking import geo
from campaigns.tracking.buffers import Hit, hit_buffer
from campaigns.tracking.flush import flush_hits, write_batch
from campaigns.tracking.geo import country_of_address
from crm.models import Contact
from privacy.models import ConsentState, Purpose
from tests.campaigns.factories import MessageFactory, TrackedLinkFactory
from tests.privacy.factories import withdraw

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"


@pytest.fixture
def trusted_proxy(settings):
    settings.TRACKING_COUNTRY_HEADER = "CF-IPCountry"
    settings.TRACKING_COUNTRY_HEADER_PROXIES = ["10.0.0.0/24"]


def buffered() -> list[str]:
    """Return the lines waiting in the buffer, without taking them."""
    buffer = hit_buffer()
    if hasattr(buffer, "redis"):
        return [line.decode() for line in buffer.redis.lrange(buffer.PENDING, 0, -1)]
    return [line for (line,) in buffer._db().execute("SELECT line FROM hit ORDER BY id")]


def test_the_open_pixel_answers_a_gif_and_records_the_country_not_the_address(
    client, trusted_proxy
):
    message = MessageFactory()
    response = client.get(f"/t/o/{message.token}.gif", REMOTE_ADDR=PROXY, HTTP_CF_IPCOUNTRY="de")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert "no-cache" in response["Cache-Control"]
    assert MessageEvent.objects.count() == 0, "written by the flush, not by the request"
    assert not any(PROXY in line for line in buffered())

    assert flush_hits().events == 1
    event = MessageEvent.objects.get()
    assert (event.kind, event.country, event.message, event.link) == ("opened", "DE", message, None)
    assert not any(PROXY in str(getattr(event, f.attname)) for f in MessageEvent._meta.fields)
    assert buffered() == []


def test_the_country_header_is_ignored_unless_a_configured_proxy_sent_it(client, trusted_proxy):
    message = MessageFactory()
    # A visitor from a Dutch university network claims to be in Germany.
    client.get(f"/t/o/{message.token}.gif", REMOTE_ADDR="145.100.1.1", HTTP_CF_IPCOUNTRY="DE")
    flush_hits()
    assert MessageEvent.objects.get().country == "NL"


def test_the_offline_table_reads_the_visitor_behind_trusted_forwarding_proxies(client, settings):
    settings.FORWARDED_FOR_PROXIES = 1
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="8.8.8.8")
    client.get(
        f"/t/o/{message.token}.gif", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3"
    )
    flush_hits()
    assert sorted(MessageEvent.objects.values_list("country", flat=True)) == ["", "US"]


def test_no_country_is_guessed_when_the_table_is_off(client, settings):
    settings.TRACKING_COUNTRY_TABLE = False
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif", REMOTE_ADDR="8.8.8.8")
    flush_hits()
    assert MessageEvent.objects.get().country == ""


def test_an_unknown_token_gets_the_same_pixel_and_records_nothing(client):
    response = client.get("/t/o/NotAToken-of-ours_0123456789abcdefghijklmnopq.gif")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert flush_hits().events == 0
    assert MessageEvent.objects.count() == 0


def test_a_pixel_request_runs_no_query_and_a_click_a_few(client, django_assert_num_queries):
    message = MessageFactory()
    link = TrackedLinkFactory(campaign=message.campaign)
    with django_assert_num_queries(0):
        client.get(f"/t/o/{message.token}.gif")
    client.get(f"/t/c/{message.token}/{link.pk}/")
    other = MessageFactory(campaign=message.campaign)
    with django_assert_num_queries(3):
        # The link is remembered by the process; the message is read by its token, then the
        # sender's web-activity basis and the person's choice decide the visitor reference.
        assert client.get(f"/t/c/{other.token}/{link.pk}/")["Location"].startswith(link.url)
    untracked = MessageFactory(campaign=message.campaign, tracked=False)
    with django_assert_num_queries(1):
        assert client.get(f"/t/c/{untracked.token}/{link.pk}/")["Location"] == link.url


def test_a_click_redirects_to_the_campaigns_link_and_is_recorded(client, trusted_proxy):
    message = MessageFactory()
    first = TrackedLinkFactory(campaign=message.campaign)
    second = TrackedLinkFactory(campaign=message.campaign)
    response = client.get(
        f"/t/c/{message.token}/{second.pk}/", REMOTE_ADDR=PROXY, HTTP_CF_IPCOUNTRY="FR"
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"{second.url}?crm_v=")
    client.get(f"/t/c/{message.token}/{first.pk}/", REMOTE_ADDR=PROXY, HTTP_CF_IPCOUNTRY="FR")
    flush_hits()
    clicks = MessageEvent.objects.filter(kind="clicked").order_by("link_id")
    assert [(e.link, e.country) for e in clicks] == [(first, "FR"), (second, "FR")]


@pytest.mark.parametrize(
    "path",
    [
        "/t/c/{token}/{other_link}/",  # a link of another campaign
        "/t/c/{other_token}/{link}/",  # a message of another campaign
        "/t/c/unknown-token-0123456789abcdefghijklmnopqrstu/{link}/",
        "/t/c/{token}/99999999999999999999/",  # beyond any id
        "/t/c/{token}/https:%2F%2Fevil.example.net/",
        "/t/c/{token}/{link}/?next=https://evil.example.net/",
    ],
)
def test_a_click_that_does_not_match_gets_404_never_a_redirect_elsewhere(client, path):
    message = MessageFactory()
    link = TrackedLinkFactory(campaign=message.campaign)
    other = MessageFactory()
    other_link = TrackedLinkFactory(campaign=other.campaign)
    url = path.format(
        token=message.token, link=link.pk, other_link=other_link.pk, other_token=other.token
    )
    response = client.get(url)
    if "next=" in url:
        # The query string is ignored: the answer is the campaign's own link, nothing else.
        assert response["Location"].split("?crm_v=")[0] == link.url
        return
    assert response.status_code == 404
    assert "Location" not in response
    assert buffered() == []


@pytest.mark.parametrize(
    "untracked",
    [{"tracked": False}, {"tracking_consent": False}, {"contact__is_restricted": True}],
    ids=["sent untracked", "never agreed", "restricted"],
)
def test_a_person_without_the_tracking_basis_is_redirected_but_not_tracked(client, untracked):
    message = MessageFactory(**untracked)
    link = TrackedLinkFactory(campaign=message.campaign)
    assert client.get(f"/t/o/{message.token}.gif").status_code == 200
    response = client.get(f"/t/c/{message.token}/{link.pk}/")
    assert response.status_code == 302
    assert response["Location"] == link.url
    if untracked != {"tracking_consent": False}:
        assert not any('"c"' in line for line in buffered()), "the click is not even buffered"
    flush_hits()
    assert MessageEvent.objects.count() == 0
    assert Contact.objects.get(pk=message.contact_id).last_activity_at is None


def test_turning_tracking_off_drops_hits_still_waiting_in_the_buffer(client):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif")
    withdraw(message.contact, Purpose.objects.get(code="analytics"))
    flush_hits()
    assert MessageEvent.objects.count() == 0


def test_a_restricted_person_is_not_tracked(client):
    message = MessageFactory(contact__is_restricted=True)
    client.get(f"/t/o/{message.token}.gif")
    flush_hits()
    assert MessageEvent.objects.count() == 0


def test_opens_and_clicks_count_as_the_persons_activity_never_backwards(client):
    message = MessageFactory()
    later = timezone.now() + timedelta(days=1)
    quiet = MessageFactory(contact__last_activity_at=later, campaign=message.campaign)
    client.get(f"/t/o/{message.token}.gif", HTTP_USER_AGENT=BROWSER)
    client.get(f"/t/o/{quiet.token}.gif", HTTP_USER_AGENT=BROWSER)
    flush_hits()
    moved = Contact.objects.get(pk=message.contact_id).last_activity_at
    opened = MessageEvent.objects.get(message=message).occurred_at
    assert moved == opened.replace(second=0, microsecond=0), "to the minute"
    assert Contact.objects.get(pk=quiet.contact_id).last_activity_at == later


def test_a_flush_killed_after_writing_is_run_again_without_duplicates(client):
    message = MessageFactory()
    for _ in range(3):
        client.get(f"/t/o/{message.token}.gif")
    buffer = hit_buffer()
    batch = buffer.claim(100)
    assert write_batch(batch) == 3
    # The worker dies here: the events are committed, the batch was never released.
    client.get(f"/t/o/{message.token}.gif")  # a hit arriving meanwhile
    result = flush_hits()
    assert result.skipped_batches == 1
    assert MessageEvent.objects.count() == 4
    assert buffered() == []


def test_a_flush_killed_before_writing_loses_nothing(client):
    message = MessageFactory()
    client.get(f"/t/o/{message.token}.gif")
    hit_buffer().claim(100)
    # The worker dies with the batch claimed and nothing written.
    assert flush_hits().events == 1
    assert MessageEvent.objects.count() == 1
    assert TrackingFlush.objects.count() == 1


def test_flushing_works_through_the_buffer_in_bounded_batches(client):
    message = MessageFactory()
    for _ in range(5):
        client.get(f"/t/o/{message.token}.gif")
    result = flush_hits(batch_size=2)
    assert (result.batches, result.hits, result.events) == (3, 5, 5)


def test_a_malformed_buffer_line_is_skipped_and_the_rest_written(client):
    message = MessageFactory()
    hit_buffer().append("not json")
    hit_buffer().append(json.dumps(["x", message.token, None, "", 0]))
    client.get(f"/t/o/{message.token}.gif")
    assert flush_hits().events == 1


def test_a_hit_on_a_link_of_another_campaign_is_never_written(client):
    message = MessageFactory()
    elsewhere = TrackedLinkFactory()
    forged = Hit(kind="c", token=message.token, link_id=elsewhere.pk, country="", at=0.0)
    hit_buffer().append(forged.encode())
    assert flush_hits().events == 0


def test_the_preference_centre_has_one_switch_for_tracking_recorded_in_the_ledger(client):
    from privacy.links import preferences_url

    message = MessageFactory()
    url = preferences_url(message.contact).removeprefix("http://127.0.0.1:8000")
    page = client.get(url).content.decode()
    assert page.count('value="analytics"') == 1
    assert 'name="tracking"' not in page
    response = client.post(url, {"purposes": [], "nonce": "n1"})
    assert response.status_code == 200
    state = ConsentState.objects.get(contact=message.contact, purpose__code="analytics")
    assert state.status == "withdraw"
    assert state.last_event.channel == "preference_centre"
    client.get(f"/t/o/{message.token}.gif")
    assert flush_hits().events == 0


def test_the_country_table_is_kept_compact_under_var_and_rebuilt_when_damaged(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    geo.country_tables.cache_clear()
    try:
        assert country_of_address("145.100.1.1") == "NL"
        (copy,) = tmp_path.glob("country-table-*.bin")
        geo.country_tables.cache_clear()
        assert country_of_address("2a02:a000::1") == "BE", "read back from the compact copy"
        copy.write_bytes(copy.read_bytes()[:1000])
        geo.country_tables.cache_clear()
        assert country_of_address("8.8.8.8") == "US"
        assert copy.stat().st_size > 1000
    finally:
        geo.country_tables.cache_clear()
