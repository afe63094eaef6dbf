"""A/B test of two subject lines: a share first, the winner by opens or clicks to the rest."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignVersion, Message, MessageEvent
from campaigns.sending import ab_test, starting, states
from core.models import AuditEvent
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.test_sending import _audience, _send_everything
from tests.campaigns.test_sending_admin import _login
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SENDING_RATE_PER_WORKER = 0


@pytest.fixture
def newsletter():
    NoticeVersionFactory()
    return PurposeFactory()


def _ab_campaign(newsletter, **fields):
    defaults = {"ab_share": 20, "ab_wait_hours": 2}
    return CampaignFactory(
        purpose=newsletter,
        subject="Spring offer",
        subject_b="Your spring offer, {{ first_name }}",
        **{**defaults, **fields},
    )


def _engage(
    variant: str,
    count: int,
    kind=MessageEvent.Kind.OPENED,
    origin=MessageEvent.Origin.HUMAN,
):
    messages = Message.objects.filter(variant=variant, status=Message.Status.SENT)[:count]
    for message in messages:
        MessageEvent.objects.create(
            message=message,
            campaign=message.campaign,
            kind=kind,
            origin=origin,
            occurred_at=timezone.now(),
        )


def test_a_share_gets_each_subject_and_the_winner_by_opens_goes_to_the_rest(newsletter):
    _audience(newsletter, 20, first_name="Emma")
    campaign = _ab_campaign(newsletter)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)

    # 20% of 20: four people, two per subject; the other 16 wait and the campaign is not sent yet.
    assert sorted(email.subject for email in mail.outbox) == (
        ["Spring offer"] * 2 + ["Your spring offer, Emma"] * 2
    )
    assert Message.objects.filter(status=Message.Status.HELD).count() == 16
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING

    _engage("b", 1)
    # Not before its time.
    assert ab_test.decide(campaign_id=campaign.pk) is None
    later = campaign.started_at + timedelta(hours=2, minutes=1)
    assert ab_test.decide_due_tests(now=later) == [campaign.pk]
    assert ab_test.decide_due_tests(now=later) == []  # decided once
    _send_everything(campaign.pk)

    campaign.refresh_from_db()
    assert campaign.ab_winner == "b"
    assert campaign.status == Campaign.Status.SENT
    assert [email.subject for email in mail.outbox[4:]] == ["Your spring offer, Emma"] * 16
    assert Message.objects.filter(variant="b").count() == 18
    audit = AuditEvent.objects.filter(details__ab_winner="b").get()
    assert (audit.details["b_engaged"], audit.details["released"]) == (1, 16)


def test_by_clicks_an_open_does_not_count_and_a_tie_goes_to_the_first_subject(newsletter):
    _audience(newsletter, 10)
    campaign = _ab_campaign(newsletter, ab_metric=Campaign.AbMetric.CLICKS, ab_share=40)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)
    _engage("b", 2, kind=MessageEvent.Kind.OPENED)
    campaign.refresh_from_db()
    later = campaign.started_at + timedelta(hours=3)
    assert ab_test.decide(campaign_id=campaign.pk, now=later) == "a"
    assert [r.sent for r in ab_test.results(campaign)] == [2, 2]


def test_machine_opens_do_not_vote_for_a_subject(newsletter):
    _audience(newsletter, 10)
    campaign = _ab_campaign(newsletter, ab_share=40)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)
    _engage("b", 2, origin=MessageEvent.Origin.MACHINE)
    _engage("a", 1)
    campaign.refresh_from_db()

    later = campaign.started_at + timedelta(hours=3)
    assert ab_test.decide(campaign_id=campaign.pk, now=later) == "a"


def test_a_cancelled_test_skips_the_held_messages_and_is_never_decided(newsletter):
    _audience(newsletter, 10)
    campaign = _ab_campaign(newsletter)
    starting.start_sending(campaign=campaign)
    states.cancel_campaign(campaign=campaign)
    assert not Message.objects.filter(status=Message.Status.HELD).exists()
    later = timezone.now() + timedelta(days=1)
    assert ab_test.decide_due_tests(now=later) == []


def test_every_language_needs_its_second_subject(newsletter):
    _audience(newsletter, 2, language="nl")
    campaign = _ab_campaign(newsletter)
    CampaignVersion.objects.create(
        campaign=campaign, language="nl", subject="Lente", html_body="<p>Hoi</p>", text_body="Hoi"
    )
    with pytest.raises(ValidationError) as refused:
        starting.start_sending(campaign=campaign)
    assert refused.value.messages == [
        "Nederlands: the A/B test needs a second subject in this language."
    ]
    assert not Message.objects.exists()


def test_the_audience_page_shows_each_subjects_figures(client, django_user_model, newsletter):
    _login(client, django_user_model, "Marketing")
    _audience(newsletter, 10)
    campaign = _ab_campaign(newsletter, ab_share=40)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)
    _engage("a", 1)
    page = client.get(reverse("admin:campaigns_campaign_audience", args=[campaign.pk]))
    text = page.content.decode()
    assert "A/B test of the subject" in text
    rows = text.split('id="ab-results"', 1)[1].split("</table>", 1)[0]
    cells = [cell.split("</td>")[0] for cell in rows.split("<td>")[1:]]
    assert cells == ["A", "2", "1", "B", "2", "0"]
    assert "Waiting for the A/B test&#x27;s winner" in text
