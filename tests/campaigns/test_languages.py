"""Campaigns in the reader's language, inside a reusable e-mail template, previewed and tested."""

import importlib

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.content import check_layout, inline_css
from campaigns.models import CampaignVersion, EmailLayout, Message
from campaigns.sending import mail as campaign_mail
from campaigns.sending import starting
from campaigns.templating import check_template
from core.models import AuditEvent
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.test_sending import _audience, _send_everything
from tests.campaigns.test_sending_admin import _login
from tests.crm.factories import ClientFactory, CompanyFactory, ContactFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory

pytestmark = pytest.mark.django_db

LAYOUT_HTML = (
    "<html><head><style>.footer { color: #666666; }</style></head><body>"
    "<p>{{ sender_name }}</p>{{ content }}"
    '<p class="footer"><a href="{{ privacy_url }}">Privacy</a> '
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
)
LAYOUT_TEXT = "{{ sender_name }}\nPrivacy: {{ privacy_url }}\nUnsubscribe: {{ unsubscribe_url }}"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SENDING_RATE_PER_WORKER = 0
    settings.SITE_URL = "https://crm.example.org"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def newsletter():
    NoticeVersionFactory()
    return PurposeFactory()


@pytest.fixture
def layout():
    return EmailLayout.objects.create(
        name="Northwind", html=LAYOUT_HTML, css="p { margin: 0; }", text_footer=LAYOUT_TEXT
    )


def _two_language_campaign(newsletter, layout=None, **fields):
    campaign = CampaignFactory(
        purpose=newsletter,
        language="en",
        layout=layout,
        subject="Spring news for {{ first_name }}",
        html_body="<p>Hello {{ first_name }}</p>",
        text_body="Hello {{ first_name }}",
        **fields,
    )
    CampaignVersion.objects.create(
        campaign=campaign,
        language="nl",
        subject="Lentenieuws voor {{ first_name }}",
        html_body="<p>Hallo {{ first_name }}</p>",
        text_body="Hallo {{ first_name }}",
    )
    return campaign


def test_each_reader_gets_their_language_or_the_campaign_default(newsletter, layout):
    [dutch] = _audience(newsletter, 1, first_name="Sanne", language="nl")
    [english] = _audience(newsletter, 1, first_name="Emma", language="en")
    [romanian] = _audience(newsletter, 1, first_name="Ioana", language="ro")
    [unknown] = _audience(newsletter, 1, first_name="Kim", language="")
    client = ClientFactory(name="Northwind Travel")
    campaign = _two_language_campaign(newsletter, layout, client=client)

    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)

    by_reader = {email.to[0]: email for email in mail.outbox}
    assert by_reader[dutch.email].subject == "Lentenieuws voor Sanne"
    assert by_reader[dutch.email].extra_headers["Content-Language"] == "nl"
    assert "Hallo Sanne" in by_reader[dutch.email].alternatives[0][0]
    assert by_reader[dutch.email].body.startswith("Hallo Sanne\n\n-- \nNorthwind Travel\n")
    for reader in (english, romanian, unknown):
        assert by_reader[reader.email].subject == f"Spring news for {reader.first_name}"
    languages = dict(Message.objects.values_list("contact_id", "language"))
    assert languages == {dutch.pk: "nl", english.pk: "en", romanian.pk: "en", unknown.pk: "en"}

    html = by_reader[english.email].alternatives[0][0]
    assert '<p style="margin: 0;">Northwind Travel</p>' in html
    footer_style = html.split('class="footer" style="', 1)[1].split('"', 1)[0]
    assert set(footer_style.rstrip(";").split(";")) == {"color: #666666", "margin: 0"}
    assert "<style>" not in html
    assert 'href="https://crm.example.org/privacy/"' in html


def test_a_version_added_after_the_messages_were_made_changes_no_queued_message(newsletter):
    [romanian] = _audience(newsletter, 1, language="ro")
    campaign = _two_language_campaign(newsletter)
    starting.start_sending(campaign=campaign)
    CampaignVersion.objects.create(
        campaign=campaign, language="ro", subject="Noutăți", html_body="<p>Salut</p>", text_body="S"
    )
    _send_everything(campaign.pk)
    [email] = mail.outbox
    assert email.to == [romanian.email]
    assert email.subject.startswith("Spring news")


def test_a_version_with_an_unknown_variable_stops_the_start_with_its_language_and_line(newsletter):
    _audience(newsletter, 1, language="nl")
    campaign = _two_language_campaign(newsletter)
    CampaignVersion.objects.filter(campaign=campaign).update(text_body="Hallo\n{{ email }}")
    with pytest.raises(ValidationError) as refused:
        starting.start_sending(campaign=campaign)
    assert refused.value.messages[0].startswith("Nederlands: Line 2: unknown variable 'email'")
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("html", "text", "field", "message"),
    [
        ("<p>{{ sender_name }}</p>", LAYOUT_TEXT, "html", "A template must show {{ content }}"),
        (
            LAYOUT_HTML,
            "{{ sender_name }} {{ privacy_url }}",
            "text_footer",
            "A template must show {{ unsubscribe_url }}.",
        ),
        (LAYOUT_HTML + "\n{{ secret }}", LAYOUT_TEXT, "html", "Line 2: unknown variable 'secret'"),
    ],
)
def test_a_template_without_its_footer_or_with_an_unknown_variable_is_refused(
    html, text, field, message
):
    with pytest.raises(ValidationError) as refused:
        check_layout(html=html, text_footer=text)
    assert any(error.startswith(message) for error in refused.value.message_dict[field])


def test_css_is_inlined_and_media_queries_are_kept():
    html = inline_css(
        "<html><head><style>@media (max-width: 600px) { p { width: 100%; } }</style></head>"
        '<body><p class="x">Hi</p></body></html>',
        ".x { color: red; }",
    )
    assert '<p class="x" style="color: red;">Hi</p>' in html
    assert "@media (max-width: 600px)" in html


def test_the_preview_shows_a_chosen_contact_in_a_chosen_language_and_is_audited(
    client, django_user_model, newsletter, layout
):
    user = _login(client, django_user_model, "Marketing")
    company = CompanyFactory(name="Acme")
    reader = ContactFactory(first_name="Sanne", language="nl", company=company)
    campaign = _two_language_campaign(newsletter, layout)
    CampaignVersion.objects.filter(campaign=campaign).update(
        html_body="<p>Hallo {{ first_name }}"
        "{% if company_name %} van {{ company_name }}{% endif %}</p>"
    )
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])

    page = client.get(url, {"language": "nl", "email": reader.email}).content.decode()

    assert "Lentenieuws voor Sanne" in page
    body_url = reverse("admin:campaigns_campaign_preview_body", args=[campaign.pk])
    framed = client.get(body_url, {"language": "nl", "contact": reader.pk})
    assert "Hallo Sanne van Acme" in framed.content.decode()
    assert "frame-ancestors 'self'" in framed["Content-Security-Policy"]
    assert "script-src" not in framed["Content-Security-Policy"]
    assert AuditEvent.objects.filter(
        actor=user, action=AuditEvent.Action.VIEWED, object_id=str(reader.pk)
    ).exists()
    made_up = client.get(url, {"language": "ro"}).content.decode()
    assert "Spring news for Alex" in made_up
    unknown = client.get(url, {"language": "nl", "email": "nobody@example.net"}).content.decode()
    assert "No contact has this address." in unknown


def test_a_test_send_goes_in_the_chosen_language_to_staff_only(
    client, django_user_model, newsletter
):
    user = _login(client, django_user_model, "Marketing")
    campaign = _two_language_campaign(newsletter)
    with pytest.raises(ValidationError):
        campaign_mail.send_test(
            campaign=campaign, to="someone@example.net", actor=user, language="nl"
        )
    campaign_mail.send_test(campaign=campaign, to=user.email, actor=user, language="nl")
    [email] = mail.outbox
    assert email.subject == "[Test] Lentenieuws voor Sanne"
    assert email.to == [user.email]


def test_a_version_in_the_default_language_is_refused_in_the_admin(
    client, django_user_model, newsletter
):
    _login(client, django_user_model, "Marketing")
    campaign = _two_language_campaign(newsletter)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    version = campaign.versions.get()
    answer = client.post(
        url,
        {
            "name": campaign.name,
            "purpose": newsletter.pk,
            "segment": campaign.segment.pk,
            "language": "en",
            "subject": campaign.subject,
            "html_body": campaign.html_body,
            "text_body": campaign.text_body,
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-0-id": version.pk,
            "versions-0-campaign": campaign.pk,
            "versions-0-language": "en",
            "versions-0-subject": "Hello",
            "versions-0-html_body": "<p>Hi</p>",
            "versions-0-text_body": "Hi",
        },
    )
    assert answer.status_code == 200
    assert "This is the campaign&#x27;s default language" in answer.content.decode()
    version.refresh_from_db()
    assert version.language == "nl"


def test_the_standard_template_is_valid_and_its_footer_speaks_the_versions_language(newsletter):
    standard = EmailLayout.objects.get(name="Standard")
    check_layout(html=standard.html, text_footer=standard.text_footer)
    campaign = _two_language_campaign(newsletter, standard)
    dutch = campaign_mail.preview(campaign=campaign, language="nl")
    romanian = campaign_mail.preview(campaign=campaign, language="ro")
    assert "Afmelden" in dutch.html and "Privacyverklaring: " in dutch.text
    assert "Unsubscribe" in romanian.html  # no Romanian version: the English one, footer too
    assert "Hallo Alex" in dutch.html


def test_saved_campaigns_move_to_the_new_fallback_syntax_and_back(newsletter):
    syntax = importlib.import_module("campaigns.migrations.0018_jinja_syntax_and_standard_layout")
    campaign = CampaignFactory(
        purpose=newsletter,
        subject='News for {{ first_name|default:"you" }}',
        html_body='<p>Hi {{ first_name | default : "there" }}</p>',
    )
    syntax.forwards(apps, None)
    campaign.refresh_from_db()
    assert campaign.subject == 'News for {{ first_name|default("you") }}'
    assert campaign.html_body == '<p>Hi {{ first_name |default("there") }}</p>'
    check_template(campaign.html_body)
    syntax.backwards(apps, None)
    campaign.refresh_from_db()
    assert campaign.subject == 'News for {{ first_name|default:"you" }}'


def test_a_version_with_an_unknown_variable_is_refused_at_save_with_its_line_and_nothing_changes(
    client, django_user_model, newsletter
):
    _login(client, django_user_model, "Marketing")
    campaign = _two_language_campaign(newsletter)
    version = campaign.versions.get()
    answer = client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        {
            "name": "Renamed",
            "purpose": newsletter.pk,
            "segment": campaign.segment.pk,
            "language": "en",
            "subject": campaign.subject,
            "ab_share": 20,
            "ab_wait_hours": 4,
            "ab_metric": "opens",
            "html_body": campaign.html_body,
            "text_body": campaign.text_body,
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-0-id": version.pk,
            "versions-0-campaign": campaign.pk,
            "versions-0-language": "nl",
            "versions-0-subject": "Hallo",
            "versions-0-html_body": "<p>Hallo</p>\n<p>{{ contact.email }}</p>",
            "versions-0-text_body": "Hallo",
        },
    )
    assert answer.status_code == 200
    assert "Line 2: unknown variable &#x27;contact&#x27;" in answer.content.decode()
    campaign.refresh_from_db()
    version.refresh_from_db()
    assert campaign.name != "Renamed"
    assert version.html_body == "<p>Hallo {{ first_name }}</p>"


def test_a_template_without_the_unsubscribe_link_is_refused_in_the_admin(client, django_user_model):
    _login(client, django_user_model, "Marketing")
    answer = client.post(
        reverse("admin:campaigns_emaillayout_add"),
        {
            "name": "No way out",
            "html": "<html><body>{{ content }} {{ sender_name }} {{ privacy_url }}</body></html>",
            "css": "",
            "text_footer": LAYOUT_TEXT,
        },
    )
    assert answer.status_code == 200
    assert "A template must show {{ unsubscribe_url }}." in answer.content.decode()
    assert not EmailLayout.objects.filter(name="No way out").exists()
