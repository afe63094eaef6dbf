"""Web activity after a tracked click: the visitor reference, the banner's choice and the beacon."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.utils import timezone

from campaigns.models import TrackedLink, WebVisit
from campaigns.reports import campaign_report
from campaigns.tracking.flush import flush_hits
from campaigns.tracking.visitors import REFERENCE_SALT
from core.registry import registry
from crm.models import Contact
from privacy.consent.tracking import set_tracking_basis
from privacy.deletion.erasure import erase_subject
from privacy.models import ConsentEvent, ConsentState, Purpose, RetentionRule, TrackingBasis
from tests.campaigns.factories import MessageFactory, TrackedLinkFactory
from tests.privacy.factories import withdraw

pytestmark = pytest.mark.django_db
SITE = "http://testserver"
PAGE = f"{SITE}/demo/website/"


@pytest.fixture(autouse=True)
def _listed(settings):
    settings.WEB_TRACKING_DOMAINS = ["testserver"]


def clicked(client, message=None) -> tuple[str, object]:
    """Click a tracked link; return the visitor reference the redirect carries and the message."""
    message = message or MessageFactory()
    link = TrackedLink.objects.filter(campaign=message.campaign, url=PAGE).first()
    link = link or TrackedLinkFactory(campaign=message.campaign, url=PAGE)
    location = client.get(f"/t/c/{message.token}/{link.pk}/")["Location"]
    return parse_qs(urlsplit(location).query).get("crm_v", [""])[0], message


def choose(client, *, choice="accept", reference="", visitor="", page=PAGE, **headers):
    body = {"reference": reference, "visitor": visitor, "choice": choice, "language": "nl"}
    body["page"] = page
    return client.post(
        "/t/w/choice",
        json.dumps(body),
        content_type="text/plain",
        HTTP_ORIGIN=SITE,
        **headers,
    )


def beacon(client, visitor, *, kind="page_view", page=PAGE, origin=SITE, **headers):
    body = {"visitor": visitor, "kind": kind, "page": page, "title": "Pricing", "referrer": ""}
    return client.post(
        "/t/w/beacon", json.dumps(body), content_type="text/plain", HTTP_ORIGIN=origin, **headers
    )


def test_accepting_the_banner_records_the_grant_and_the_visits_reach_the_contact(client):
    reference, message = clicked(client)
    assert reference
    answer = choose(client, reference=reference)
    assert answer.status_code == 200
    assert answer["Access-Control-Allow-Origin"] == SITE
    visitor = answer.json()["visitor"]
    grant = ConsentEvent.objects.get(contact=message.contact, purpose__code="web_activity")
    assert (grant.action, grant.channel) == ("grant", "cookie_banner")
    assert grant.wording.startswith("U komt hier via een link in onze e-mail.")

    assert beacon(client, visitor).status_code == 204
    page = f"{PAGE}pricing/?utm_source=mail&email=someone@example.org"
    beacon(client, visitor, page=page)
    beacon(client, visitor, kind="download", page=f"{SITE}/demo/website/brochure.pdf")
    flush_hits()
    visits = list(WebVisit.objects.filter(contact=message.contact).order_by("occurred_at"))
    assert [(v.kind, v.path) for v in visits] == [
        ("page_view", "/demo/website/"),
        ("page_view", "/demo/website/pricing/"),
        ("download", "/demo/website/brochure.pdf"),
    ]
    assert all("example.org" not in v.path and v.campaign == message.campaign for v in visits)
    assert Contact.objects.get(pk=message.contact_id).last_activity_at is not None
    report = campaign_report(campaign=message.campaign).visits
    assert (report.visitors, report.page_views, report.downloads) == (1, 2, 1)


def test_refusing_the_banner_records_the_refusal_and_nothing_else(client):
    reference, message = clicked(client)
    answer = choose(client, choice="refuse", reference=reference)
    assert answer.json() == {}
    state = ConsentState.objects.get(contact=message.contact, purpose__code="web_activity")
    assert state.status == "refuse"
    later = MessageFactory(contact=message.contact)
    assert clicked(client, later)[0] == "", "after a refusal a click carries no reference"


def test_gpc_is_a_refusal_with_nothing_read_or_stored(client):
    reference, _message = clicked(client)
    answer = choose(client, reference=reference, HTTP_SEC_GPC="1")
    assert answer.json() == {}
    assert not ConsentEvent.objects.filter(purpose__code="web_activity").exists()
    accepted = choose(client, reference=reference).json()["visitor"]
    assert beacon(client, accepted, HTTP_SEC_GPC="1").status_code == 204
    flush_hits()
    assert not WebVisit.objects.exists()


@pytest.mark.parametrize("how", ["forged", "expired", "reused"])
def test_a_forged_expired_or_reused_reference_records_nothing_and_gives_no_cookie(
    client, settings, how
):
    reference, message = clicked(client)
    if how == "forged":
        reference = signing.dumps({"m": message.pk, "n": "x"}, salt="another.salt")
    elif how == "expired":
        settings.WEB_VISITOR_REFERENCE_SECONDS = -1
    else:
        assert "visitor" in choose(client, reference=reference).json()
        ConsentEvent.objects.all().delete()
        ConsentState.objects.filter(purpose__code="web_activity").delete()
    answer = choose(client, reference=reference)
    assert answer.status_code == 400
    assert "visitor" not in answer.json()
    assert not ConsentEvent.objects.filter(purpose__code="web_activity").exists()


def test_a_reference_of_a_message_that_is_not_ours_is_refused(client):
    forged = signing.dumps({"m": 10**9, "n": "abc"}, salt=REFERENCE_SALT, compress=True)
    assert choose(client, reference=forged).status_code == 400


def test_a_reference_signed_as_json_before_is_still_read_while_valid(client):
    _plain, message = clicked(client)
    earlier = signing.dumps(
        {"m": message.pk, "n": "earlier-nonce"}, salt=REFERENCE_SALT, compress=True
    )

    answer = choose(client, reference=earlier)

    assert answer.status_code == 200
    assert "visitor" in answer.json()
    assert ConsentEvent.objects.filter(
        purpose__code="web_activity", contact=message.contact, action=ConsentEvent.Action.GRANT
    ).exists()


def test_a_reference_with_another_message_id_under_its_signature_is_refused(client):
    reference, message = clicked(client)
    value, stamp, signature = reference.split(":")
    tampered = f"{message.pk + 1}.{value.split('.')[1]}:{stamp}:{signature}"

    assert choose(client, reference=tampered).status_code == 400
    assert not ConsentEvent.objects.filter(purpose__code="web_activity").exists()


def test_a_beacon_or_choice_from_an_unlisted_domain_is_refused(client):
    reference, _message = clicked(client)
    evil = "https://evil.example.net"
    assert choose(client, reference=reference, page=f"{evil}/").status_code == 400
    visitor = choose(client, reference=reference).json()["visitor"]
    assert beacon(client, visitor, page=f"{evil}/page/", origin=evil).status_code == 403
    assert beacon(client, visitor, origin=evil).status_code == 403
    assert beacon(client, "forged-visitor-value").status_code == 403
    flush_hits()
    assert not WebVisit.objects.exists()


def test_a_withdrawn_web_activity_consent_stops_the_beacon_at_once(client):
    reference, message = clicked(client)
    visitor = choose(client, reference=reference).json()["visitor"]
    beacon(client, visitor)
    withdraw(message.contact, Purpose.objects.get(code="web_activity"))
    beacon(client, visitor)
    flush_hits()
    assert not WebVisit.objects.exists(), "even the beacon buffered before the withdrawal"


def test_the_banners_settings_link_withdraws_the_consent(client):
    reference, message = clicked(client)
    visitor = choose(client, reference=reference).json()["visitor"]
    assert choose(client, choice="refuse", visitor=visitor).status_code == 200
    state = ConsentState.objects.get(contact=message.contact, purpose__code="web_activity")
    assert state.status == "withdraw"
    assert choose(client, choice="accept", visitor=visitor).status_code == 400


def test_no_reference_when_the_sender_tracks_no_web_activity_or_the_mail_is_untracked(
    client, admin_user
):
    set_tracking_basis(
        client=None,
        email_tracking=TrackingBasis.Basis.CONSENT,
        web_activity=TrackingBasis.Basis.OFF,
        actor=admin_user,
    )
    assert clicked(client)[0] == ""
    set_tracking_basis(
        client=None,
        email_tracking=TrackingBasis.Basis.CONSENT,
        web_activity=TrackingBasis.Basis.CONSENT,
        actor=admin_user,
    )
    assert clicked(client, MessageFactory(tracked=False))[0] == ""
    assert clicked(client, MessageFactory(tracking_consent=False))[0] == ""


def test_the_script_is_served_for_a_strict_csp_with_the_banner_in_three_languages(client):
    response = client.get("/t/w/script.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    for text in ("Accept", "Accepteren", "Refuz", "Weigeren"):
        assert text in script
    assert "eval(" not in script and "innerHTML" not in script
    assert "globalPrivacyControl" in script


def test_the_noscript_image_records_a_page_view_with_the_cookie_and_answers_a_pixel(client):
    reference, _message = clicked(client)
    visitor = choose(client, reference=reference).json()["visitor"]
    client.cookies["crm_visitor"] = visitor
    response = client.get("/t/w/p.gif", HTTP_REFERER=f"{PAGE}pricing/?q=1")
    assert response["Content-Type"] == "image/gif"
    client.get("/t/w/p.gif", HTTP_REFERER="https://evil.example.net/")
    flush_hits()
    assert list(WebVisit.objects.values_list("path", flat=True)) == ["/demo/website/pricing/"]


def test_visits_are_declared_exported_erased_and_kept_one_year(client):
    reference, message = clicked(client)
    visitor = choose(client, reference=reference).json()["visitor"]
    beacon(client, visitor)
    flush_hits()
    declaration = registry.get(WebVisit)
    assert declaration.category == "web_activity"
    rule = RetentionRule.objects.get(kind="web_visits")
    assert (rule.period_days, rule.is_active) == (365, True)
    WebVisit.objects.update(occurred_at=timezone.now() - timedelta(days=400))
    erase_subject(contact=message.contact, requested_by=None, channel="admin")
    assert not WebVisit.objects.exists()


def test_the_banner_choice_is_rate_limited_per_address(client, settings):
    settings.LINK_POST_RATE_PER_IP = 2
    forged = signing.dumps({"m": 1, "n": "abc"}, salt="another.salt")
    assert [choose(client, reference=forged).status_code for _ in range(3)] == [400, 400, 429]
