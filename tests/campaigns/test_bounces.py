"""Bounce and complaint mail read from a bounce mailbox: what each class does to an address.

The reports here are shaped like the real ones of tests/fixtures/bounces (a DSN, a plain-text
notice, a Hotmail complaint); the figures over the whole real-world set are in
test_bounce_fixtures.py.
"""

import mailbox
import secrets
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.bounces import DEAD, SOFT, Feedback, apply_feedback
from campaigns.bounces.mailboxes import feed_mailbox
from campaigns.models import MessageEvent
from campaigns.tasks import feed_bounce_mailbox
from core.models import AuditEvent
from crm.models import Contact, Suppression
from crm.suppression import may_contact
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ClientFactory

pytestmark = pytest.mark.django_db

DSN = """From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{n}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B{n}"

--B{n}
Content-Type: text/plain

This is the mail system at host mx.example.net.

--B{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
{recipient_block}
--B{n}
Content-Type: text/rfc822-headers

From: crm@example.org
To: {email}
Subject: Our spring letter
{returned}
--B{n}--
"""

NOTICE = """From: MAILER-DAEMON@mail.example.net
To: bounces@example.org
Subject: failure notice
Message-ID: <notice-{n}@mail.example.net>

Hi. This is the qmail-send program at mail.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{email}>:
{reason}

--- Below this line is a copy of the message.

From: crm@example.org
To: {email}
Subject: Our spring letter
{returned}
"""

HOTMAIL_COMPLAINT = """From: staff@hotmail.com
To: fbl@example.org
Subject: complaint about message from 192.0.2.10
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="FBL"

--FBL
Content-Type: message/rfc822
Content-Disposition: inline

X-HmXmrOriginalRecipient: {email}
From: crm@example.org
To: {email}
Subject: Our spring letter
{returned}

Hello

--FBL--
"""

OUT_OF_OFFICE = """From: someone@example.net
To: bounces@example.org
Subject: Out of office

I am away until Monday.
"""


def returned_headers(message, how: str) -> str:
    """The returned original's headers that identify it: our token, our Message-ID, or none."""
    if how == "token":
        return f"X-CRM-Message: {message.token}"
    if how == "message-id":
        return f"Message-ID: <{message.token}@{settings.SITE_DOMAIN}>"
    return "Message-ID: <original-1@elsewhere.example.net>"


def dsn(n, message, *, status="5.1.1", action="failed", diagnostic="", how="token", blocks=1):
    email = message.contact.email
    block = f"Final-Recipient: rfc822; {email}\nAction: {action}\nStatus: {status}\n"
    if diagnostic:
        block += f"Diagnostic-Code: smtp; {diagnostic}\n"
    if blocks == 1:
        # Everything in the first block, as some servers write it.
        recipient_block = block
    else:
        recipient_block = "Arrival-Date: Mon, 16 Nov 2026 10:00:00 +0000\n\n" + block
    return DSN.format(
        n=n,
        email=email,
        recipient_block=recipient_block,
        returned=returned_headers(message, how),
    )


def notice(n, message, *, reason, how="none"):
    return NOTICE.format(
        n=n, email=message.contact.email, reason=reason, returned=returned_headers(message, how)
    )


def write_mbox(path, *mails: str):
    box = mailbox.mbox(path)
    for mail in mails:
        box.add(mail.encode())
    box.flush()
    box.close()
    return path


def status_of(message) -> str:
    return Contact.objects.get(pk=message.contact_id).email_status


@pytest.mark.parametrize("blocks", [1, 2])
@pytest.mark.parametrize("how", ["token", "message-id", "none"])
def test_a_dead_address_is_marked_bounced_however_the_report_names_the_message(
    tmp_path, how, blocks
):
    message = MessageFactory()
    box = write_mbox(
        tmp_path / "bounces",
        dsn(1, message, diagnostic="550 5.1.1 <x>: user unknown", how=how, blocks=blocks),
    )
    assert feed_mailbox(str(box))["recorded"] == 1
    assert status_of(message) == "bounced"
    event = MessageEvent.objects.get()
    assert (event.message, event.kind, event.detail) == (message, "bounced", "hard")
    audit = AuditEvent.objects.get(object_id=str(message.contact_id), channel="mailbox")
    assert audit.details == {"hard_bounce": True, "fields": ["email_status"]}


def test_a_report_matched_by_recipient_goes_to_the_latest_message_to_that_address(tmp_path):
    older = MessageFactory(sent_at=timezone.now() - timedelta(days=3))
    latest = MessageFactory(contact=older.contact)
    box = write_mbox(tmp_path / "bounces", notice(1, latest, reason="No such user (#5.1.1)"))
    feed_mailbox(str(box))
    assert MessageEvent.objects.get().message == latest


@pytest.mark.parametrize(
    "diagnostic",
    [
        "550-5.7.1 Our system has detected that this message is likely unsolicited mail",
        "550 5.7.26 Unauthenticated email from example.org is not accepted due to DMARC policy",
        "554 5.7.9 Message not accepted for policy reasons",
        "550 5.1.0 <bounces@example.org> sender rejected. AUP#CDRBL",
        "552 5.3.4 Message size exceeds fixed maximum message size",
        "421 4.7.0 Try again later, closing connection. (rate limited)",
        "554 Host network not allowed",
    ],
)
def test_a_policy_rejection_never_marks_the_address_bounced(tmp_path, diagnostic):
    message = MessageFactory()
    box = write_mbox(tmp_path / "bounces", dsn(1, message, status="5.0.0", diagnostic=diagnostic))
    assert feed_mailbox(str(box))["recorded"] == 1
    assert status_of(message) == "valid"
    assert MessageEvent.objects.get().detail == "policy"
    assert may_contact(email=message.contact.email)


@pytest.mark.parametrize(
    "reason",
    [
        "552 Quota violation for the address",
        "The e-mail message could not be delivered because the user's mailfolder is full.",
        "Delivery failed 20 attempts",
        "Remote host said: 450 <x>: Recipient address rejected: Greylisted, try later",
    ],
)
def test_a_full_mailbox_or_a_failure_without_a_reason_is_soft(tmp_path, reason):
    message = MessageFactory()
    feed_mailbox(str(write_mbox(tmp_path / "bounces", notice(1, message, reason=reason))))
    assert status_of(message) == "valid"
    assert MessageEvent.objects.get().detail == "soft"


def test_repeated_soft_bounces_suspend_the_address_and_a_later_delivery_clears_it(settings):
    settings.SOFT_BOUNCE_LIMIT = 3
    settings.SOFT_BOUNCE_WINDOW_DAYS = 30
    first = MessageFactory(tracking_consent=False)
    contact = first.contact
    messages = [first] + [MessageFactory(contact=contact, tracking_consent=False) for _ in range(3)]
    now = timezone.now()
    for days, message in zip((40, 20, 10), messages, strict=False):
        apply_feedback(
            feedback=Feedback(
                kind="bounced", detail=SOFT, token=message.token, at=now - timedelta(days=days)
            ),
            channel="mailbox",
        )
    # The first was outside the window: two count.
    assert Contact.objects.get(pk=contact.pk).email_status == "valid"
    apply_feedback(
        feedback=Feedback(kind="bounced", detail=SOFT, token=messages[3].token, at=now),
        channel="mailbox",
    )
    assert Contact.objects.get(pk=contact.pk).email_status == "suspended"
    apply_feedback(
        feedback=Feedback(kind="delivered", token=messages[3].token, at=now + timedelta(hours=1)),
        channel="webhook",
    )
    assert Contact.objects.get(pk=contact.pk).email_status == "valid"
    changes = AuditEvent.objects.filter(object_id=str(contact.pk)).order_by("at")
    assert [e.details for e in changes] == [
        {"soft_bounces": 3, "fields": ["email_status"]},
        {"delivered_again": True, "fields": ["email_status"]},
    ]


def test_soft_bounces_before_a_delivery_do_not_count(settings):
    settings.SOFT_BOUNCE_LIMIT = 2
    first = MessageFactory()
    second = MessageFactory(contact=first.contact)
    third = MessageFactory(contact=first.contact)
    now = timezone.now()
    apply_feedback(
        feedback=Feedback(kind="bounced", detail=SOFT, token=first.token, at=now - timedelta(2)),
        channel="mailbox",
    )
    apply_feedback(
        feedback=Feedback(kind="delivered", token=second.token, at=now - timedelta(1)),
        channel="mailbox",
    )
    apply_feedback(
        feedback=Feedback(kind="bounced", detail=SOFT, token=third.token, at=now),
        channel="mailbox",
    )
    assert Contact.objects.get(pk=first.contact_id).email_status == "valid"


def test_a_hotmail_complaint_suppresses_the_address_for_that_sender(tmp_path):
    sender = ClientFactory()
    message = MessageFactory(campaign__client=sender)
    mail = HOTMAIL_COMPLAINT.format(
        email=message.contact.email, returned=returned_headers(message, "none")
    )
    assert feed_mailbox(str(write_mbox(tmp_path / "fbl", mail)))["recorded"] == 1
    assert not may_contact(email=message.contact.email, client=sender)
    assert may_contact(email=message.contact.email)
    assert Suppression.objects.get().reason == "complaint"
    assert MessageEvent.objects.get().kind == "complained"


def test_the_same_mailbox_fed_twice_records_nothing_new(tmp_path):
    hard = MessageFactory()
    soft = MessageFactory()
    complained = MessageFactory(campaign__client=ClientFactory())
    box = write_mbox(
        tmp_path / "bounces",
        dsn(1, hard),
        dsn(2, soft, action="delayed", status="4.2.2", how="message-id"),
        HOTMAIL_COMPLAINT.format(
            email=complained.contact.email, returned=returned_headers(complained, "token")
        ),
        OUT_OF_OFFICE,
    )
    out = StringIO()
    call_command("feed_bounces", str(box), stdout=out)
    assert out.getvalue().strip() == (
        "3 recorded, 0 already recorded, 0 for no message of ours, 0 unreadable, 1 not a report."
    )
    events = sorted(MessageEvent.objects.values_list("message_id", "kind", "detail"))
    again = StringIO()
    call_command("feed_bounces", str(box), stdout=again)
    assert again.getvalue().startswith("0 recorded, 3 already recorded")
    assert sorted(MessageEvent.objects.values_list("message_id", "kind", "detail")) == events
    assert Suppression.objects.count() == 1


def test_a_report_about_no_message_of_ours_is_counted_and_never_guessed(tmp_path):
    ours = MessageFactory()
    # Names a message token that is not (or no longer) ours, for an address we did write to.
    foreign = MessageFactory.build(token=secrets.token_urlsafe(32), contact=ours.contact)
    stranger = MessageFactory.build(token=secrets.token_urlsafe(32))
    stranger.contact.email = "nobody@example.net"
    box = write_mbox(
        tmp_path / "bounces", dsn(1, foreign), notice(2, stranger, reason="User unknown")
    )
    assert feed_mailbox(str(box))["unmatched"] == 2
    assert MessageEvent.objects.count() == 0
    assert status_of(ours) == "valid"


def test_a_malformed_report_changes_nothing_and_the_rest_is_read(tmp_path):
    message = MessageFactory()
    broken = (
        "From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="X"\n\n'
        "--X\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
        "%%%%\n--X\n"
    )
    box = write_mbox(tmp_path / "bounces", broken, dsn(2, message))
    outcome = feed_mailbox(str(box))
    assert outcome["recorded"] == 1
    assert outcome["other"] + outcome["unreadable"] == 1
    assert MessageEvent.objects.get().message == message


def test_a_maildir_is_read_once_each_mail_flagged_seen(tmp_path):
    first = MessageFactory()
    box = mailbox.Maildir(tmp_path / "Maildir")
    box.add(dsn(1, first).encode())
    assert feed_mailbox(str(tmp_path / "Maildir"))["recorded"] == 1
    second = MessageFactory()
    box.add(dsn(2, second).encode())
    outcome = feed_mailbox(str(tmp_path / "Maildir"))
    assert (outcome["recorded"], outcome["already"]) == (1, 0)
    assert all("S" in box.get_message(key).get_flags() for key in box.iterkeys())
    assert status_of(second) == "bounced"


def test_a_missing_mailbox_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No mbox file or Maildir folder"):
        call_command("feed_bounces", str(tmp_path / "none.mbox"))


def test_an_unreachable_imap_mailbox_is_a_clear_error():
    # Nothing listens on port 9 of this machine: the connection is refused.
    with pytest.raises(CommandError, match="The IMAP mailbox cannot be opened"):
        call_command("feed_bounces", "imap://bounces:secret@127.0.0.1:9/INBOX")


def test_the_beat_task_reads_the_configured_mailbox(tmp_path, settings):
    message = MessageFactory()
    settings.BOUNCE_MAILBOX = str(write_mbox(tmp_path / "bounces", dsn(1, message)))
    assert feed_bounce_mailbox() == {"recorded": 1}
    assert feed_bounce_mailbox() == {"already": 1}
    settings.BOUNCE_MAILBOX = str(tmp_path / "gone")
    assert feed_bounce_mailbox() == {"unavailable": 1}


def test_a_delivery_reported_by_the_mail_files_of_the_embedded_default_is_counted():
    message = MessageFactory()
    assert apply_feedback(feedback=Feedback(kind="delivered", token=message.token), channel="task")
    assert not apply_feedback(
        feedback=Feedback(kind="delivered", token=message.token), channel="task"
    )
    assert MessageEvent.objects.filter(kind="delivered").count() == 1


def test_a_hard_bounce_of_an_erased_persons_message_is_counted_only():
    message = MessageFactory()
    Contact.objects.filter(pk=message.contact_id).delete()
    assert apply_feedback(
        feedback=Feedback(kind="bounced", detail=DEAD, token=message.token), channel="mailbox"
    )
    assert MessageEvent.objects.get().detail == "hard"
