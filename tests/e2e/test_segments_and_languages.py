"""A marketer builds an OR segment and sends a two-language campaign, in Chromium.

A real Celery worker (in a thread, on the test's broker) creates and sends the messages; the Dutch
reader gets the Dutch version, the English reader the default, and the person outside the
segment nothing.
"""

import importlib

import pytest
from celery.contrib.testing.worker import start_worker
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail

from campaigns.models import Campaign, EmailLayout, Message, Segment
from config.celery import app as celery_app
from tests.conftest import drop_queued_tasks
from tests.e2e.conftest import log_in_as_staff, screenshot
from tests.privacy.factories import ContactFactory, NoticeVersionFactory, PurposeFactory, grant
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]
PASSWORD = "a long made-up passphrase"
HTML_EN = '<p>Hello {{ first_name|default("there") }},</p><p>Our spring offer is here.</p>'
HTML_NL = '<p>Hallo {{ first_name|default("daar") }},</p><p>Ons lenteaanbod is er.</p>'


@pytest.fixture
def marketer(db):
    if not Group.objects.filter(name="Marketing").exists():
        importlib.import_module("privacy.migrations.0009_roles").create_roles(apps, None)
    user = get_user_model().objects.create_user(
        "marketer", "marketer@example.org", PASSWORD, is_staff=True, first_name="Sanne"
    )
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


def choose_in_autocomplete(page, field: str, text: str) -> None:
    """Pick an option of an admin autocomplete field the way staff do: open, type, click."""
    page.locator(f"#{field}").locator("xpath=..").locator(".select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).click()


def test_a_marketer_builds_an_or_segment_and_the_dutch_reader_gets_the_dutch_version(
    visitor_factory, marketer
):
    NoticeVersionFactory()
    newsletter = PurposeFactory(code="spring_letter", name="Spring letter")
    sanne = ContactFactory(first_name="Sanne", email="sanne@example.org", language="nl")
    emma = ContactFactory(first_name="Emma", email="emma@example.net", country="GB", language="en")
    ioana = ContactFactory(first_name="Ioana", email="ioana@example.org", language="ro")
    for person in (sanne, emma, ioana):
        grant(person, newsletter)
    EmailLayout.objects.get_or_create(
        name="Standard",
        defaults={
            "html": "<html><body>{{ content }}<p class='footer'>{{ sender_name }} · "
            '<a href="{{ privacy_url }}">Privacy</a> · '
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
            "css": ".footer { font-size: 12px; color: #666666; }",
            "text_footer": "{{ sender_name }}\n{{ privacy_url }}\n{{ unsubscribe_url }}",
        },
    )
    staff = visitor_factory("en-GB")
    log_in_as_staff(staff, marketer, PASSWORD)

    # The segment: anyone who reads Dutch OR lives in the United Kingdom.
    page = staff.open("/admin/campaigns/segment/add/")
    page.locator("#id_name").fill("Dutch readers or the UK")
    builder = page.locator("#segment-rule-builder")
    builder.locator(".group-match").select_option("any")
    builder.get_by_role("button", name="Add condition").click()
    builder.locator(".rule-field").nth(0).select_option("language")
    builder.locator(".rule-value").nth(0).select_option("nl")
    builder.get_by_role("button", name="Add condition").click()
    builder.locator(".rule-field").nth(1).select_option("country")
    builder.locator(".rule-value").nth(1).select_option("GB")
    live = page.locator("#segment-live-count")
    live.filter(has_text="Matches 2 contacts now.").wait_for()
    assert page.locator("#segment-preview tbody tr").count() == 2
    page.locator("#segment-preview").scroll_into_view_if_needed()
    screenshot(page, "segment-rules")
    page.get_by_role("button", name="Save", exact=True).click()
    segment = Segment.objects.get(name="Dutch readers or the UK")
    assert segment.rules["match"] == "any"
    assert len(segment.rules["rules"]) == 2

    # The campaign: English by default, with a Dutch version.
    page = staff.open("/admin/campaigns/campaign/add/")
    page.locator("#id_name").fill("Spring letter")
    page.locator("#id_purpose").select_option(label=str(newsletter))
    choose_in_autocomplete(page, "id_segment", "Dutch readers or the UK")
    page.locator("#id_language").select_option("en")
    page.locator("#id_layout").select_option(label="Standard")
    page.locator("#id_subject").fill("Spring news for {{ first_name }}")
    page.locator("#id_html_body").fill(HTML_EN)
    page.locator("#id_text_body").fill('Hello {{ first_name|default("there") }}')
    page.locator("#versions-group .add-row a").click()
    page.locator("#id_versions-0-language").select_option("nl")
    page.locator("#id_versions-0-subject").fill("Lentenieuws voor {{ first_name }}")
    page.locator("#id_versions-0-html_body").fill(HTML_NL)
    page.locator("#id_versions-0-text_body").fill('Hallo {{ first_name|default("daar") }}')
    page.get_by_role("button", name="Save and continue editing").click()
    campaign = Campaign.objects.get(name="Spring letter")
    assert campaign.versions.get().language == "nl"

    # The preview as Sanne sees it, then sending from the audience page.
    page.get_by_role("link", name="Preview").click()
    page.locator("#id_language").select_option("nl")
    page.locator("#id_email").fill("sanne@example.org")
    page.get_by_role("button", name="Show the preview").click()
    assert page.locator("#preview-subject").inner_text() == "Lentenieuws voor Sanne"
    frame = page.frame_locator("#preview-body")
    assert "Hallo Sanne," in frame.locator("body").inner_text()
    screenshot(page, "campaign-preview")
    page = staff.open(f"/admin/campaigns/campaign/{campaign.pk}/audience/")
    assert page.locator("#audience-size").inner_text() == "2"
    assert page.locator("#segment-rules").inner_text() == (
        "The segment's rules: Language is one of Nederlands OR Country is one of United Kingdom"
    )
    # Nothing queued while the browser worked through the pages may run beside the sending.
    drop_queued_tasks()
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=["sending"], shutdown_timeout=30
    ):
        page.get_by_role("button", name="Send now").click()
        sent = wait_for(lambda: list(mail.outbox) if len(mail.outbox) >= 2 else [])

    by_reader = {message.to[0]: message for message in sent}
    assert set(by_reader) == {"sanne@example.org", "emma@example.net"}
    dutch, english = by_reader["sanne@example.org"], by_reader["emma@example.net"]
    assert dutch.subject == "Lentenieuws voor Sanne"
    assert "Hallo Sanne," in dutch.alternatives[0][0]
    assert dutch.body.startswith("Hallo Sanne")
    assert english.subject == "Spring news for Emma"
    assert "Hello Emma," in english.alternatives[0][0]
    assert "font-size: 12px" in english.alternatives[0][0]
    assert dict(Message.objects.values_list("contact__email", "language")) == {
        "sanne@example.org": "nl",
        "emma@example.net": "en",
    }
