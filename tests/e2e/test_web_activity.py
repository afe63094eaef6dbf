"""The whole way in a real browser: mail, tracked click, cookie banner, pages, contact's page."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from campaigns.models import Message, WebVisit
from campaigns.sending import batches, starting, states
from campaigns.tracking import hits
from campaigns.tracking.flush import flush_hits
from privacy.models import ConsentEvent, Purpose
from tests.campaigns.factories import CampaignFactory
from tests.crm.factories import ContactFactory
from tests.e2e.conftest import log_in_as_staff, screenshot
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long demo passphrase"
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


@pytest.fixture(autouse=True)
def _tracking(settings, tmp_path, site):
    """An empty buffer of its own; the live server's host is the operator's listed website."""
    hits._LINKS.clear()
    settings.TRACKING_BUFFER = "sqlite"
    settings.TRACKING_BUFFER_PATH = tmp_path / "tracking-hits.sqlite3"
    settings.WEB_TRACKING_DOMAINS = [urlsplit(site).hostname]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SENDING_RATE_PER_WORKER = 0
    # A transactional test empties the tables: the purposes the migrations seed come back here.
    for code in ("analytics", "web_activity"):
        if not Purpose.objects.filter(code=code).exists():
            PurposeFactory(code=code, name=code.replace("_", " ").capitalize())


def sent_mail(site: str, *, tracking: bool) -> tuple[str, object]:
    """Send a campaign linking to the demo website to one person; return its HTML and contact."""
    NoticeVersionFactory()
    newsletter = PurposeFactory()
    person = ContactFactory(first_name="Maud", email="maud@example.org")
    grant(person, newsletter)
    if tracking:
        grant(person, Purpose.objects.get(code="analytics"))
    html = f'<html><body><p><a href="{site}/demo/website/">Spring routes</a></p></body></html>'
    campaign = CampaignFactory(purpose=newsletter, html_body=html)
    starting.start_sending(campaign=campaign)
    while batches.has_queued(campaign.pk):
        batches.send_batch(campaign_id=campaign.pk)
    states.finish_if_done(campaign.pk)
    (email,) = mail.outbox
    return email.alternatives[0][0], person


def first_link(html: str) -> str:
    return re.search(r'<a href="([^"]+)"', html).group(1)


def visits_flushed(expected: int) -> list[WebVisit]:
    """Flush until the beacons the browser sent are written (they travel after the click)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        flush_hits()
        rows = list(WebVisit.objects.order_by("occurred_at", "pk"))
        if len(rows) >= expected:
            return rows
        time.sleep(0.2)
    return list(WebVisit.objects.order_by("occurred_at", "pk"))


def visitor_cookies(visitor) -> list[dict]:
    return [c for c in visitor.page.context.cookies() if c["name"] == "crm_visitor"]


def test_accepting_the_banner_puts_two_pages_and_a_download_on_the_contacts_page(
    visitor_factory, site
):
    html, person = sent_mail(site, tracking=True)
    link = first_link(html)
    assert "/t/k/" in link and "/t/o/" in html

    recipient = visitor_factory("en-GB")
    page = recipient.open(link)
    assert urlsplit(page.url).path == "/demo/website/"
    assert "crm_v" not in page.url, "the reference leaves the address bar at once"
    banner = page.get_by_role("dialog", name="Cookies on this website")
    banner.get_by_role("button", name="Accept").click()
    page.wait_for_function("() => document.cookie.includes('crm_visitor=')")
    page.get_by_role("link", name="See the spring routes and prices").click()
    page.wait_for_url(re.compile(r"/demo/website/routes/$"))
    assert page.get_by_role("dialog").count() == 0, "asked once, not on every page"
    # The brochure may open or download; either way its beacon leaves before the navigation.
    page.get_by_role("link", name="Download the spring brochure (PDF)").click(no_wait_after=True)

    visits = visits_flushed(3)
    assert [(v.kind, v.path) for v in visits] == [
        ("page_view", "/demo/website/"),
        ("page_view", "/demo/website/routes/"),
        ("download", "/demo/website/brochure.pdf"),
    ]
    assert {v.contact_id for v in visits} == {person.pk}
    (cookie,) = visitor_cookies(recipient)
    assert cookie["domain"] == urlsplit(site).hostname, "first-party, on the website's own domain"
    grant_event = ConsentEvent.objects.get(contact=person, purpose__code="web_activity")
    assert (grant_event.action, grant_event.channel) == ("grant", "cookie_banner")

    admin = get_user_model().objects.create_superuser("officer", "officer@example.org", PASSWORD)
    staff = visitor_factory("en-GB")
    log_in_as_staff(staff, admin, PASSWORD)
    contact_page = staff.open(f"/admin/crm/contact/{person.pk}/change/")
    section = contact_page.locator("#web_visits-group").inner_text()
    assert section.index("/demo/website/brochure.pdf") < section.index("/demo/website/routes/")
    assert section.index("/demo/website/routes/") < section.rindex("/demo/website/")
    screenshot(contact_page, "contact-web-visits")


@pytest.mark.parametrize("how", ["refused", "gpc"])
def test_a_refused_banner_or_gpc_stores_nothing_and_sets_no_cookie(visitor_factory, site, how):
    html, person = sent_mail(site, tracking=True)
    recipient = visitor_factory("nl-NL")
    if how == "gpc":
        recipient.page.context.add_init_script(GPC_ON)
        recipient.page.context.set_extra_http_headers({"Sec-GPC": "1"})
    page = recipient.open(first_link(html))
    assert urlsplit(page.url).path == "/demo/website/"
    if how == "refused":
        banner = page.get_by_role("dialog", name="Cookies op deze website")
        banner.get_by_role("button", name="Weigeren").click()
        page.wait_for_function("() => !document.getElementById('crm-cookie-banner')")
        page.wait_for_timeout(300)
        assert ConsentEvent.objects.get(contact=person, purpose__code="web_activity").action == (
            "refuse"
        )
    else:
        page.wait_for_timeout(500)
        assert page.get_by_role("dialog").count() == 0, "GPC is a refusal: no banner to answer"
        assert not ConsentEvent.objects.filter(purpose__code="web_activity").exists()
    page.get_by_role("link", name="See the spring routes and prices").click()
    page.wait_for_url(re.compile(r"/demo/website/routes/$"))
    page.wait_for_timeout(300)
    assert visitor_cookies(recipient) == []
    assert visits_flushed(1) == []


def test_a_contact_without_the_tracking_basis_gets_no_pixel_and_untracked_links(
    visitor_factory, site
):
    html, person = sent_mail(site, tracking=False)
    assert "/t/o/" not in html and "/t/k/" not in html
    assert first_link(html) == f"{site}/demo/website/"
    assert Message.objects.get(contact=person).tracked is False

    recipient = visitor_factory("en-GB")
    page = recipient.open(first_link(html))
    page.wait_for_timeout(500)
    assert page.get_by_role("dialog").count() == 0, "no reference: nothing to ask"
    assert visitor_cookies(recipient) == []
    assert visits_flushed(1) == []
