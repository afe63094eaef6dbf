import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test import Client as HttpClient
from django.utils import timezone

from campaigns import links
from campaigns.models import Campaign, Message, TrackedLink
from campaigns.sending import batches, handover, stalls, starting, states
from campaigns.sending.mail import send_test
from campaigns.tracking.tokens import ClickToken, read_click_token
from core.models import AuditEvent
from crm.models import Suppression
from crm.suppression import suppress
from privacy.consent.tracking import may_offer_web_activity, set_tracking_basis
from privacy.models import Purpose, TrackingBasis
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.smtp_sink import SmtpSink
from tests.crm.factories import ClientFactory, ContactFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory, grant, withdraw

pytestmark = pytest.mark.django_db
# 43 random characters on SQLite; the id in 16 hexadecimal digits and 22 random on PostgreSQL.
TOKEN = re.compile(r"^[A-Za-z0-9_-]{38,43}$")


@pytest.fixture(autouse=True)
def _sending_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SENDING_RATE_PER_WORKER = 0
    settings.SITE_URL = "https://crm.example.org"
    settings.SITE_DOMAIN = "crm.example.org"
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@crm.example.org"


@pytest.fixture
def newsletter():
    NoticeVersionFactory()
    return PurposeFactory()


def _audience(purpose, count, **fields):
    people = ContactFactory.create_batch(count, **fields)
    for person in people:
        grant(person, purpose)
    return people


def _send_everything(campaign_id):
    while batches.has_queued(campaign_id):
        batches.send_batch(campaign_id=campaign_id, size=2)
    states.finish_if_done(campaign_id)


def test_starting_creates_one_message_per_audience_member_with_an_opaque_token(newsletter):
    people = _audience(newsletter, 3)
    ContactFactory()  # no consent: no message
    campaign = CampaignFactory(purpose=newsletter)

    created = starting.start_sending(campaign=campaign)

    assert created == 3
    messages = list(Message.objects.filter(campaign=campaign))
    assert sorted(m.contact_id for m in messages) == sorted(p.pk for p in people)
    assert all(TOKEN.match(m.token) for m in messages)
    assert len({m.token for m in messages}) == 3
    assert {m.status for m in messages} == {Message.Status.QUEUED}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert campaign.started_at is not None
    assert list(TrackedLink.objects.filter(campaign=campaign).values_list("url", flat=True)) == [
        "https://www.example.org/offer?a=1&b=2"
    ]
    assert AuditEvent.objects.filter(object_id=str(campaign.pk), channel="campaigns").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ids drawn in the statement")
def test_on_postgresql_each_token_begins_with_its_message_id_and_then_random(newsletter):
    _audience(newsletter, 4)
    first, second = CampaignFactory(purpose=newsletter), CampaignFactory(purpose=newsletter)

    starting.start_sending(campaign=first)
    starting.start_sending(campaign=second)

    messages = list(Message.objects.order_by("pk"))
    assert len(messages) == 8
    assert [int(m.token[:16], 16) for m in messages] == [m.pk for m in messages]
    # Later messages sort after earlier ones: the token index grows at its end.
    assert [m.token for m in messages] == sorted(m.token for m in messages)
    assert len({m.token[16:] for m in messages}) == 8
    assert all(len(m.token) == 38 for m in messages)
    assert all(TOKEN.match(m.token) for m in messages)


def test_a_start_that_would_give_someone_a_second_message_is_refused_whole(newsletter):
    people = _audience(newsletter, 3)
    campaign = CampaignFactory(purpose=newsletter)
    # No path of the product does this: a draft never has messages. The constraint still guards.
    Message.objects.create(campaign=campaign, contact=people[0], token="x" * 43)

    with pytest.raises(IntegrityError):
        starting.start_sending(campaign=campaign)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert Message.objects.filter(campaign=campaign).count() == 1
    assert not TrackedLink.objects.filter(campaign=campaign).exists()


def test_a_campaign_cannot_start_twice_or_after_it_was_sent(newsletter):
    _audience(newsletter, 1)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    with pytest.raises(ValidationError, match="sending campaign cannot become sending"):
        starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    with pytest.raises(ValidationError):
        states.cancel_campaign(campaign=campaign)
    assert Message.objects.filter(campaign=campaign).count() == 1


def test_a_template_with_a_forbidden_variable_cannot_start(newsletter):
    _audience(newsletter, 1)
    campaign = CampaignFactory(purpose=newsletter, text_body="Hi\n{{ email }}")
    with pytest.raises(ValidationError) as refused:
        starting.start_sending(campaign=campaign)
    assert "Line 2" in str(refused.value)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Message.objects.exists()


def test_each_recipient_gets_one_personal_email_with_unsubscribe_headers_and_tracking(newsletter):
    client = ClientFactory(name="Northwind Travel")
    anna = ContactFactory(first_name="Anna <b>")
    grant(anna, newsletter)
    grant(anna, Purpose.objects.get(code="analytics"))
    campaign = CampaignFactory(purpose=newsletter, client=client, from_email="news@example.net")
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)

    [email] = mail.outbox
    message = Message.objects.get(campaign=campaign)
    token = message.token
    assert message.status == Message.Status.SENT
    assert email.to == [anna.email]
    assert email.from_email == "Northwind Travel <news@example.net>"
    assert email.subject == "Spring offer for Anna <b>"
    headers = email.extra_headers
    unsubscribe_url, mailto = re.fullmatch(r"<(.+)>, <(.+)>", headers["List-Unsubscribe"]).groups()
    assert unsubscribe_url.startswith("https://crm.example.org/u/")
    assert unsubscribe_url.endswith(f"?m={token}")
    assert mailto == f"mailto:unsubscribe@crm.example.org?subject=unsubscribe%20{token}"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["X-CRM-Message"] == token
    assert headers["Message-ID"] == f"<{token}@crm.example.org>"
    assert email.message()["Message-ID"] == f"<{token}@crm.example.org>"

    html = email.alternatives[0][0]
    link = TrackedLink.objects.get(campaign=campaign)
    assert "Hello Anna &lt;b&gt;," in html
    signed = re.search(r'href="https://crm\.example\.org/t/k/([^/"]+)/"', html).group(1)
    # Web activity is offered exactly when the click-time check of older links would offer it.
    offers_web = may_offer_web_activity(contact_id=anna.pk, client_id=campaign.client_id)
    assert read_click_token(signed) == ClickToken(
        token=token, message_id=message.pk, link_id=link.pk, offers_web=offers_web
    )
    assert "example.org/offer" not in html
    assert f'<img src="https://crm.example.org/t/o/{token}.gif"' in html
    assert html.index("/t/o/") < html.index("</body>")
    # The person's own links are not redirected: they work without the tracker.
    assert f'href="{unsubscribe_url.replace("&", "&amp;")}"' in html
    assert "Unsubscribe: " + unsubscribe_url in email.body


def _html_by_address() -> dict[str, str]:
    return {email.to[0]: email.alternatives[0][0] for email in mail.outbox}


def _is_tracked(html: str) -> bool:
    return "/t/o/" in html or "/t/c/" in html


def test_only_people_with_the_tracking_basis_get_a_pixel_and_tracked_links(newsletter):
    analytics = Purpose.objects.get(code="analytics")
    agreed, never_asked, withdrew = _audience(newsletter, 3)
    grant(agreed, analytics)
    grant(withdrew, analytics)
    withdraw(withdrew, analytics)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)

    html = _html_by_address()
    assert _is_tracked(html[agreed.email])
    for person in (never_asked, withdrew):
        assert not _is_tracked(html[person.email])
        assert 'href="https://www.example.org/offer?a=1&amp;b=2"' in html[person.email]
        # The unsubscribe link still works: it is the person's own, never a redirect.
        assert "/u/" in html[person.email]
    tracked = dict(Message.objects.values_list("contact_id", "tracked"))
    assert tracked == {agreed.pk: True, never_asked.pk: False, withdrew.pk: False}


def test_the_officers_basis_per_sender_decides_who_is_tracked(newsletter):
    officer = get_user_model().objects.create_user("officer", password="x", is_staff=True)
    analytics = Purpose.objects.get(code="analytics")
    sender = ClientFactory()
    agreed, never_asked, objected = _audience(newsletter, 3)
    grant(agreed, analytics)
    grant(objected, analytics)
    withdraw(objected, analytics)
    set_tracking_basis(
        client=sender,
        email_tracking=TrackingBasis.Basis.LEGITIMATE_INTEREST,
        web_activity=TrackingBasis.Basis.OFF,
        actor=officer,
    )
    campaign = CampaignFactory(purpose=newsletter, client=sender)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)
    html = _html_by_address()
    assert _is_tracked(html[agreed.email]) and _is_tracked(html[never_asked.email])
    assert not _is_tracked(html[objected.email])
    audit = AuditEvent.objects.get(actor=officer, action=AuditEvent.Action.CREATED)
    assert audit.object_id == str(TrackingBasis.objects.get(client=sender).pk)

    mail.outbox.clear()
    set_tracking_basis(
        client=sender,
        email_tracking=TrackingBasis.Basis.OFF,
        web_activity=TrackingBasis.Basis.OFF,
        actor=officer,
    )
    again = CampaignFactory(purpose=newsletter, client=sender)
    starting.start_sending(campaign=again)
    _send_everything(again.pk)
    assert not any(_is_tracked(html) for html in _html_by_address().values())
    changed = AuditEvent.objects.filter(action=AuditEvent.Action.CHANGED, actor=officer).get()
    assert changed.details == {"fields": ["email_tracking"]}


def test_a_withdrawal_during_sending_untracks_the_next_batch(newsletter):
    analytics = Purpose.objects.get(code="analytics")
    first, second = _audience(newsletter, 2)
    for person in (first, second):
        grant(person, analytics)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    batches.send_batch(campaign_id=campaign.pk, size=1)
    sent_first = Message.objects.get(campaign=campaign, status=Message.Status.SENT).contact
    later = second if sent_first == first else first
    withdraw(later, analytics)
    _send_everything(campaign.pk)
    html = _html_by_address()
    assert _is_tracked(html[sent_first.email])
    assert not _is_tracked(html[later.email])


def test_an_opt_out_after_the_start_wins_and_the_message_is_skipped(newsletter):
    stays, leaves, suppressed = _audience(newsletter, 3)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)

    withdraw(leaves, newsletter)
    suppress(email=suppressed.email, reason=Suppression.Reason.UNSUBSCRIBE)
    _send_everything(campaign.pk)

    assert [email.to for email in mail.outbox] == [[stays.email]]
    statuses = dict(Message.objects.values_list("contact_id", "status"))
    assert statuses == {
        stays.pk: Message.Status.SENT,
        leaves.pk: Message.Status.SKIPPED,
        suppressed.pk: Message.Status.SKIPPED,
    }
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_the_one_click_unsubscribe_of_the_header_opts_the_person_out(newsletter):
    first, second = _audience(newsletter, 2)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    _send_everything(campaign.pk)
    assert mail.outbox[0].to == [first.email]
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    url = re.match(r"<(.+?)>", header).group(1)

    # What a mail provider does for RFC 8058: POST the header's URL with this exact body.
    parts = urlsplit(url)
    response = HttpClient().post(
        f"{parts.path}?{parts.query}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200

    # The next campaign for the purpose no longer reaches them; the other person still gets it.
    mail.outbox.clear()
    follow_up = CampaignFactory(purpose=newsletter, segment=campaign.segment)
    assert starting.start_sending(campaign=follow_up) == 1
    _send_everything(follow_up.pk)
    assert [email.to for email in mail.outbox] == [[second.email]]


def test_a_message_for_an_erased_person_is_skipped():
    NoticeVersionFactory()
    purpose = PurposeFactory()
    gone = ContactFactory()
    grant(gone, purpose)
    campaign = CampaignFactory(purpose=purpose)
    starting.start_sending(campaign=campaign)
    Message.objects.filter(campaign=campaign).update(contact=None)
    _send_everything(campaign.pk)
    assert mail.outbox == []
    assert Message.objects.get().status == Message.Status.SKIPPED


def test_cancelling_a_sending_campaign_skips_what_is_still_queued(newsletter):
    _audience(newsletter, 4)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    batches.send_batch(campaign_id=campaign.pk, size=1)

    states.cancel_campaign(campaign=campaign)

    assert batches.send_batch(campaign_id=campaign.pk).sent == 0
    assert len(mail.outbox) == 1
    counts = {s: Message.objects.filter(status=s).count() for s in Message.Status.values}
    assert counts[Message.Status.SENT] == 1
    assert counts[Message.Status.SKIPPED] == 3


def test_a_cancel_during_a_batch_stops_it_before_the_next_message(newsletter, settings):
    _audience(newsletter, 3)
    settings.SENDING_RATE_PER_WORKER = 1  # a wait before each message after the first
    settings.SENDING_HANDOVER_GROUP = 1
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)

    # Staff cancel while the worker waits before its second message.
    outcome = batches.send_batch(
        campaign_id=campaign.pk, sleep=lambda _: states.cancel_campaign(campaign=campaign)
    )

    assert outcome.sent == len(mail.outbox) == 1
    statuses = sorted(Message.objects.values_list("status", flat=True))
    assert statuses == [Message.Status.SENT, Message.Status.SKIPPED, Message.Status.SKIPPED]


def test_scheduling_is_for_the_future_and_the_beat_task_starts_due_campaigns(newsletter):
    _audience(newsletter, 1)
    campaign = CampaignFactory(purpose=newsletter)
    with pytest.raises(ValidationError, match="future"):
        states.schedule_campaign(campaign=campaign, at=timezone.now() - timedelta(minutes=1))
    states.schedule_campaign(campaign=campaign, at=timezone.now() + timedelta(hours=1))
    assert starting.start_due_campaigns() == []

    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
    assert starting.start_due_campaigns() == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert Message.objects.filter(campaign=campaign).count() == 1


def test_a_scheduled_campaign_can_go_back_to_draft_and_is_then_not_started(newsletter):
    campaign = CampaignFactory(purpose=newsletter)
    states.schedule_campaign(campaign=campaign, at=timezone.now() + timedelta(minutes=5))
    states.unschedule_campaign(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
    assert starting.start_due_campaigns() == []
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_temporary_smtp_refusals_are_retried_and_permanent_ones_fail(newsletter, settings):
    ok, busy, unknown = _audience(newsletter, 3)
    settings.SENDING_MAX_ATTEMPTS = 2
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    with SmtpSink() as sink:
        for name, value in sink.settings().items():
            setattr(settings, name, value)
        sink.handler.refusals = {
            busy.email: "451 4.7.1 Try again later",
            unknown.email: "550 5.1.1 No such user",
        }
        first = batches.send_batch(campaign_id=campaign.pk)
        assert (first.sent, first.failed, len(first.retrying)) == (1, 1, 1)
        waiting = Message.objects.get(contact=busy)
        assert (waiting.status, waiting.sent_at, waiting.error) == (
            Message.Status.SENDING,
            None,
            "SMTP 451: retrying",
        )
        assert not states.finish_if_done(campaign.pk)

        # After the backoff the message is queued again; the server accepts it this time.
        sink.handler.refusals = {}
        assert batches.requeue_for_retry(first.retrying) == 1
        second = batches.send_batch(campaign_id=campaign.pk)
        assert second.sent == 1
        assert sink.handler.recipients() == [ok.email, busy.email]

    failed = Message.objects.get(contact=unknown)
    assert (failed.status, failed.error) == (Message.Status.FAILED, "SMTP 550 (permanent)")
    assert unknown.email not in failed.error
    assert Message.objects.get(contact=busy).attempts == 2
    assert states.finish_if_done(campaign.pk)


def test_a_temporary_refusal_on_the_last_attempt_fails(newsletter, settings):
    [busy] = _audience(newsletter, 1)
    settings.SENDING_MAX_ATTEMPTS = 1
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    with SmtpSink() as sink:
        for name, value in sink.settings().items():
            setattr(settings, name, value)
        sink.handler.refusals = {busy.email: "452 4.2.2 Mailbox full"}
        batches.send_batch(campaign_id=campaign.pk)
    message = Message.objects.get()
    assert (message.status, message.error) == (
        Message.Status.FAILED,
        "SMTP 452 (temporary, out of attempts)",
    )


def test_an_unreachable_mail_server_puts_the_batch_back_in_the_queue(newsletter, settings):
    _audience(newsletter, 2)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    with SmtpSink() as sink:
        settings_for_sink = sink.settings()
    # The sink is stopped now: nobody listens on its port.
    for name, value in settings_for_sink.items():
        setattr(settings, name, value)
    with pytest.raises(handover.SendingInterrupted):
        batches.send_batch(campaign_id=campaign.pk)
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.QUEUED}
    assert set(Message.objects.values_list("sent_at", flat=True)) == {None}


def test_claims_of_a_dead_worker_are_recovered_without_sending_anything_twice(newsletter):
    _audience(newsletter, 3)
    campaign = CampaignFactory(purpose=newsletter)
    starting.start_sending(campaign=campaign)
    # A worker claimed all three, began handing over the first, and died.
    claimed = batches.claim_batch(campaign.pk, 3)
    Message.objects.filter(pk=claimed[0]).update(sent_at=timezone.now(), attempts=1)

    assert stalls.resume_stalled_sending().requeued == 0  # the lease has not expired yet
    report = stalls.resume_stalled_sending(
        now=timezone.now() + timedelta(seconds=settings.SENDING_CLAIM_LEASE + 1)
    )
    assert (report.requeued, report.unknown, report.resumed) == (2, 1, (campaign.pk,))

    _send_everything(campaign.pk)
    assert len(mail.outbox) == 2
    unsure = Message.objects.get(pk=claimed[0])
    assert (unsure.status, unsure.error) == (Message.Status.FAILED, handover.UNKNOWN_OUTCOME)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_message_tokens_never_reach_the_logs(newsletter, caplog):
    _audience(newsletter, 2)
    campaign = CampaignFactory(purpose=newsletter)
    with caplog.at_level(logging.DEBUG):
        starting.start_sending(campaign=campaign)
        _send_everything(campaign.pk)
        stalls.resume_stalled_sending(lease_seconds=0)
    tokens = list(Message.objects.values_list("token", flat=True))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "started" in logged
    assert not any(token in logged for token in tokens)


def test_the_send_campaign_command_sends_in_the_foreground(newsletter, capsys):
    _audience(newsletter, 2)
    ContactFactory(is_restricted=True)
    campaign = CampaignFactory(purpose=newsletter)
    call_command("send_campaign", str(campaign.pk), "--foreground")
    out = capsys.readouterr().out
    assert "Segment: 3 contacts" in out
    assert "excluded, processing restricted (art. 18): 1" in out
    assert "Sent 2, skipped 0, failed 0." in out
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert len(mail.outbox) == 2


def test_the_send_campaign_command_refuses_an_unknown_or_sent_campaign(newsletter):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no campaign #999"):
        call_command("send_campaign", "999")
    campaign = CampaignFactory(purpose=newsletter, status=Campaign.Status.SENT)
    with pytest.raises(CommandError, match="sent campaign cannot become sending"):
        call_command("send_campaign", str(campaign.pk))


def test_a_test_send_goes_only_to_a_staff_address_and_records_nothing_as_sent(newsletter):
    staff = get_user_model().objects.create_user(
        "marketer", email="marketer@example.org", is_staff=True, first_name="Sanne"
    )
    campaign = CampaignFactory(purpose=newsletter)
    with pytest.raises(ValidationError, match="staff account"):
        send_test(campaign=campaign, to="someone@example.net", actor=staff)
    assert mail.outbox == []

    send_test(campaign=campaign, to="marketer@example.org", actor=staff)
    [email] = mail.outbox
    assert email.subject == "[Test] Spring offer for Sanne"
    assert "/t/" not in email.alternatives[0][0]
    assert not Message.objects.exists()


def test_personal_links_are_the_privacy_apps_own_links():
    from privacy.links import preferences_url, unsubscribe_url

    person, client = ContactFactory(), ClientFactory()
    for sender in (None, client):
        built = links.PersonalLinks(sender)
        assert built.preferences_url(person) == preferences_url(person)
        assert built.unsubscribe_url(person, "tok") == f"{unsubscribe_url(person, sender)}?m=tok"


def test_links_point_at_the_stable_tracking_paths(settings):
    assert links.open_pixel_url("abc") == "https://crm.example.org/t/o/abc.gif"
    assert links.click_url("abc", 7) == "https://crm.example.org/t/c/abc/7/"


def test_the_tasks_retry_a_temporary_refusal_until_the_server_accepts(
    newsletter, settings, eager_tasks, django_capture_on_commit_callbacks
):
    [busy] = _audience(newsletter, 1)
    campaign = CampaignFactory(purpose=newsletter)
    with SmtpSink() as sink:
        for name, value in sink.settings().items():
            setattr(settings, name, value)
        sink.handler.refusals = {busy.email: "421 4.3.2 Try again later"}
        sink.handler.refusals_left = {busy.email: 2}
        with django_capture_on_commit_callbacks(execute=True):
            starting.start_sending(campaign=campaign)
        received = sink.handler.recipients()

    message = Message.objects.get()
    assert received == [busy.email]
    assert (message.status, message.attempts) == (Message.Status.SENT, 3)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_start_asked_twice_starts_once(newsletter):
    from campaigns.tasks import start_campaign

    _audience(newsletter, 2)
    campaign = CampaignFactory(purpose=newsletter)
    assert start_campaign(campaign.pk) == 2
    assert start_campaign(campaign.pk) == 0
    assert Message.objects.count() == 2
