"""Staff and integrators see and record consent with its proof; suppressed addresses stay out."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from crm.models import Contact, Suppression
from crm.suppression import suppress
from privacy.consent.ledger import record_consent
from privacy.consent.notices import publish_notice
from privacy.models import ConsentEvent, ConsentState, NoticeVersion, Purpose
from tests.crm.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def newsletter() -> Purpose:
    return Purpose.objects.get(code="newsletter")


def test_contact_page_shows_the_proof_of_each_consent(admin_client):
    contact = ContactFactory()
    record_consent(
        contact=contact,
        purpose=newsletter(),
        action="grant",
        wording="Yes, send me the newsletter.",
        channel="web_form",
    )
    page = admin_client.get(reverse("admin:crm_contact_change", args=[contact.pk]))
    assert "Yes, send me the newsletter." in page.text
    assert "Version" in page.text or "1.0" in page.text
    assert "Granted" in page.text


def test_staff_record_a_phone_consent_with_evidence(admin_client, admin_user):
    contact = ContactFactory()
    url = reverse("admin:crm_contact_record_consent", args=[contact.pk])
    response = admin_client.post(
        url,
        {
            "purpose": newsletter().pk,
            "action": "grant",
            "channel": "staff_phone",
            "wording": "May we send you our monthly newsletter?",
            "evidence": "Call on 3 March by the sales desk, note filed in the CRM call log.",
        },
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.get(contact=contact)
    assert event.recorded_by == admin_user
    assert event.notice_version == NoticeVersion.objects.get(version="1.0")
    assert ConsentState.objects.get(contact=contact).status == "grant"


def test_staff_consent_without_evidence_is_refused_and_nothing_recorded(admin_client):
    contact = ContactFactory()
    url = reverse("admin:crm_contact_record_consent", args=[contact.pk])
    response = admin_client.post(
        url,
        {
            "purpose": newsletter().pk,
            "action": "grant",
            "channel": "staff_paper",
            "wording": "I agree to receive the newsletter.",
            "evidence": "",
        },
    )
    assert response.status_code == 200
    assert "This field is required" in response.text
    assert not ConsentEvent.objects.exists()


def test_contact_list_filters_by_consent_state(admin_client):
    granted = ContactFactory(first_name="Inês", last_name="Santos")
    withdrawn = ContactFactory(first_name="Tiago", last_name="Ferreira")
    for contact in (granted, withdrawn):
        record_consent(
            contact=contact,
            purpose=newsletter(),
            action="grant",
            wording="Yes.",
            channel="web_form",
        )
    record_consent(
        contact=withdrawn,
        purpose=newsletter(),
        action="withdraw",
        wording="Stop.",
        channel="preference_centre",
    )
    page = admin_client.get(
        reverse("admin:crm_contact_changelist"), {"consent": "newsletter:grant"}
    )
    assert "Inês Santos" in page.text
    assert "Tiago Ferreira" not in page.text


def test_admin_refuses_to_add_a_globally_suppressed_address(admin_client):
    suppress(email="opted.out@example.org", reason=Suppression.Reason.UNSUBSCRIBE)
    response = admin_client.post(
        reverse("admin:crm_contact_add"),
        {
            "email": "Opted.Out@example.org",
            "relationship": "prospect",
            "email_status": "valid",
            "provenance-TOTAL_FORMS": "0",
            "provenance-INITIAL_FORMS": "0",
            "interactions-TOTAL_FORMS": "0",
            "interactions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "opted out" in response.text
    assert not Contact.objects.exists()


def test_ledger_and_suppression_are_read_only_in_the_admin(admin_client):
    contact = ContactFactory()
    event, _ = record_consent(
        contact=contact, purpose=newsletter(), action="grant", wording="Yes.", channel="web_form"
    )
    assert admin_client.get(reverse("admin:privacy_consentevent_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:privacy_consentevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_suppression_admin_finds_an_address_by_its_hash(admin_client):
    suppress(email="hidden@example.net", reason=Suppression.Reason.COMPLAINT)
    page = admin_client.get(
        reverse("admin:crm_suppression_changelist"), {"q": " Hidden@Example.net"}
    )
    assert page.text.count('class="field-reason"') == 1
    other = admin_client.get(
        reverse("admin:crm_suppression_changelist"), {"q": "someone@example.net"}
    )
    assert other.text.count('class="field-reason"') == 0


def test_a_published_notice_cannot_be_edited_or_published_again(admin_client, admin_user):
    notice = NoticeVersion.objects.get(version="1.0")
    response = admin_client.post(
        reverse("admin:privacy_noticeversion_change", args=[notice.pk]),
        {
            "version": "1.0",
            "title": "Rewritten",
            "body": "Other text",
            "effective_at_0": "2026-01-01",
            "effective_at_1": "00:00:00",
        },
    )
    assert response.status_code == 403
    notice.refresh_from_db()
    assert notice.title == "Privacy statement"
    with pytest.raises(Exception, match="already published"):
        publish_notice(notice=notice, actor=admin_user)


def test_api_records_a_consent_by_email_and_replays_idempotently(api):
    contact = ContactFactory(email="beatriz.costa@example.org")
    payload = {
        "email": "Beatriz.Costa@example.org",
        "purpose": "newsletter",
        "action": "grant",
        "wording": "Yes, send me the newsletter.",
        "idempotency_key": "shop-order-991",
    }
    first = api.post("/api/v1/consents/", payload, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["channel"] == "api"
    assert first.json()["notice_version"] == "1.0"
    again = api.post("/api/v1/consents/", payload, format="json")
    assert again.status_code == 200
    assert ConsentEvent.objects.filter(contact=contact).count() == 1
    states = api.get(f"/api/v1/contacts/{contact.pk}/consents/").json()
    assert states[0]["purpose"] == "newsletter"
    assert states[0]["status"] == "grant"
    assert states[0]["proof"]["wording"] == "Yes, send me the newsletter."


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "astrology"}, "purpose"),
        ({"action": "maybe"}, "action"),
        ({"wording": ""}, "wording"),
        ({"email": "nobody@example.org"}, "email"),
        ({"notice_version": "9.9"}, "notice_version"),
    ],
)
def test_api_refuses_bad_consent_input_with_the_field(api, change, field):
    ContactFactory(email="rui.silva@example.org")
    payload = {
        "email": "rui.silva@example.org",
        "purpose": "newsletter",
        "action": "grant",
        "wording": "Yes.",
        **change,
    }
    response = api.post("/api/v1/consents/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ConsentEvent.objects.exists()


def test_api_checks_suppression_per_sender(api):
    client = ClientFactory()
    suppress(email="lena.becker@example.org", reason=Suppression.Reason.UNSUBSCRIBE, client=client)
    check = "/api/v1/suppressions/check/"
    assert api.post(check, {"email": "lena.becker@example.org"}, format="json").json() == {
        "may_contact": True
    }
    assert api.post(
        check, {"email": "lena.becker@example.org", "client": client.pk}, format="json"
    ).json() == {"may_contact": False}


def test_api_refuses_to_create_a_contact_for_a_suppressed_address(api):
    suppress(email="gone@example.org", reason=Suppression.Reason.ERASURE)
    response = api.post(
        "/api/v1/contacts/",
        {
            "email": "gone@example.org",
            "source": {"kind": "web_form", "name": "Shop checkout"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "opted out" in response.json()["email"][0]
    assert not Contact.objects.exists()


def test_openapi_schema_is_valid_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_staff_cannot_record_a_grant_for_an_address_that_opted_out(admin_client):
    contact = ContactFactory(email="opted.out.later@example.org")
    suppress(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBE)
    url = reverse("admin:crm_contact_record_consent", args=[contact.pk])
    response = admin_client.post(
        url,
        {
            "purpose": newsletter().pk,
            "action": "grant",
            "channel": "staff_phone",
            "wording": "May we send you our newsletter?",
            "evidence": "Call on 3 March, note in the call log.",
        },
    )
    assert response.status_code == 200
    assert "only the person&#x27;s own double opt-in" in response.text
    assert not ConsentEvent.objects.exists()
