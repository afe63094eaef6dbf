"""The pseudonymised engagement export: keyed pseudonyms, no people, a reason, an audit row."""

import csv
import hashlib
import hmac
import io

import pytest
from django.contrib.auth.models import Group

from campaigns.engagement import person_key
from campaigns.models import MessageEvent
from core.hashing import stored_email_hash
from core.models import AuditEvent
from crm.suppression import suppress
from tests.campaigns.factories import (
    MessageEventFactory,
    MessageFactory,
    TrackedLinkFactory,
)

pytestmark = pytest.mark.django_db
Kind = MessageEvent.Kind


@pytest.fixture
def events():
    """Two people's opens and a click; a restricted person's open; an untracked person's open."""
    first = MessageFactory(contact__first_name="Ottilie", contact__email="ottilie@example.org")
    campaign = first.campaign
    link = TrackedLinkFactory(campaign=campaign)
    second = MessageFactory(campaign=campaign)
    restricted = MessageFactory(campaign=campaign, contact__is_restricted=True)
    untracked = MessageFactory(campaign=campaign, tracking_consent=False)
    MessageEventFactory(message=first, kind=Kind.OPENED, country="NL")
    MessageEventFactory(message=first, kind=Kind.CLICKED, link=link, country="NL")
    MessageEventFactory(message=second, kind=Kind.OPENED, country="BE")
    MessageEventFactory(message=restricted, kind=Kind.OPENED)
    MessageEventFactory(message=untracked, kind=Kind.OPENED)
    MessageEventFactory(message=untracked, kind=Kind.UNSUBSCRIBED)
    return campaign, first, second, link


def export(client, campaign, reason="Compare opening rates by country"):
    response = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/report/engagement/", {"reason": reason}
    )
    return response


def test_the_export_has_pseudonyms_and_no_person(admin_client, events):
    campaign, first, second, link = events
    response = export(admin_client, campaign)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["event"], r["country"], r["link"]) for r in rows] == [
        ("opened", "NL", ""),
        ("clicked", "NL", link.url),
        ("opened", "BE", ""),
        ("unsubscribed", "", ""),
    ]
    assert rows[0]["person"] == rows[1]["person"] == person_key(first.contact_id)
    assert rows[2]["person"] != rows[0]["person"]
    for value in ("Ottilie", "ottilie@example.org", first.token, second.contact.email):
        assert value not in text


def test_the_pseudonym_cannot_be_joined_to_the_suppression_list(events, settings):
    _, first, *_ = events
    suppression = suppress(email=first.contact.email, reason="unsubscribe")
    pseudonym = person_key(first.contact_id)
    undiluted = hmac.new(
        settings.PRIVACY_HASH_KEY.encode(), str(first.contact_id).encode(), hashlib.sha256
    ).hexdigest()
    assert pseudonym not in (suppression.email_hash, stored_email_hash(first.contact.email))
    assert not undiluted.startswith(pseudonym)


def test_each_export_is_audited_with_its_reason_and_count(admin_client, admin_user, events):
    campaign, *_ = events
    export(admin_client, campaign)
    audit = AuditEvent.objects.get(action="exported")
    assert (audit.actor, audit.reason) == (admin_user, "Compare opening rates by country")
    assert audit.details == {"engagement_export": True, "events": 4}


def test_an_export_without_a_reason_is_refused_and_not_audited(admin_client, events):
    campaign, *_ = events
    response = export(admin_client, campaign, reason="  ")
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    assert not AuditEvent.objects.filter(action="exported").exists()


def test_only_holders_of_the_export_permission_may_export(client, django_user_model, events):
    campaign, *_ = events
    marketer = django_user_model.objects.create_user("marketer", password="x" * 16, is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(marketer)
    assert export(client, campaign).status_code == 403
    officer = django_user_model.objects.create_user("officer", password="x" * 16, is_staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    client.force_login(officer)
    assert (
        client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/engagement/").status_code == 200
    )
    assert not AuditEvent.objects.filter(action="exported").exists()
