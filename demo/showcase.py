"""Demo activity that makes every screen meaningful on a fresh `make run`.

Beside the people of `demo.seeding`: a campaign already sent, with deliveries, opens (some from
Apple Mail Privacy Protection's proxy, which opens every message it receives: machine opens),
clicks and a hard bounce; a data-subject request in each state; a breach on its 72-hour clock;
and a finished import of the sample list shipped in `demo/sample_lists/`, with rejected rows.
Everything goes through the functions staff and the public trigger, each part once: a second run
finds it by name and adds nothing.
"""

from datetime import date, timedelta
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from campaigns.bounces import DEAD, Feedback, apply_feedback
from campaigns.models import Campaign, Message, MessageEvent, TrackedLink
from campaigns.sending import batches, starting, states
from campaigns.tracking.flush import flush_hits
from campaigns.tracking.hits import click_target, record_open
from core.models import AuditEvent
from crm.imports.batches import Attestation, create_batch, run_batch
from crm.models import Client, Contact, ImportBatch, Source
from privacy.accountability.breaches import record_breach
from privacy.models import Breach, SubjectRequest
from privacy.requests.subject_requests import (
    complete_request,
    expire_unverified_requests,
    log_staff_request,
    reject_request,
    submit_request,
)

CHANNEL = AuditEvent.Channel.COMMAND
SAMPLE_LIST = Path(__file__).resolve().parent / "sample_lists" / "spring-fair-2026.csv"
SENT_CAMPAIGN = "Demo: winter newsletter (sent)"
# What Apple Mail Privacy Protection's image proxy sends when it fetches a message's images.
APPLE_PROXY_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
PERSON_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
BREACH_TITLE = "Demo: laptop with an export left on a train"


def _visit(agent: str) -> HttpRequest:
    """A request as a mail client's fetch arrives: its user agent and a documentation address."""
    request = HttpRequest()
    request.META = {"HTTP_USER_AGENT": agent, "REMOTE_ADDR": "192.0.2.44"}
    return request


def seed_sent_campaign(*, template: Campaign) -> Campaign | None:
    """Send a copy of the demo newsletter and record what the mail system and readers did."""
    if Campaign.objects.filter(name=SENT_CAMPAIGN).exists():
        return None
    campaign = Campaign.objects.create(
        name=SENT_CAMPAIGN,
        purpose=template.purpose,
        segment=template.segment,
        subject='Winter news for {{ first_name|default("you") }}',
        html_body=template.html_body,
        text_body=template.text_body,
    )
    starting.start_sending(campaign=campaign, on_workers=False)
    while batches.has_queued(campaign.pk):
        batches.send_batch(campaign_id=campaign.pk)
    states.finish_if_done(campaign.pk)
    sent = list(Message.objects.filter(campaign=campaign, status=Message.Status.SENT))
    link = TrackedLink.objects.filter(campaign=campaign).first()
    for index, message in enumerate(sent):
        # A provider's report (the file backend of `make run` has already written most of these).
        if index == 0:
            apply_feedback(
                feedback=Feedback(token=message.token, kind=MessageEvent.Kind.BOUNCED, detail=DEAD),
                channel=CHANNEL,
            )
            continue
        apply_feedback(
            feedback=Feedback(token=message.token, kind=MessageEvent.Kind.DELIVERED),
            channel=CHANNEL,
        )
    # Opens and clicks exist only for the people who agreed to e-mail tracking (`tracked`).
    for index, message in enumerate(m for m in sent[1:] if m.tracked):
        if index % 3 == 0:
            record_open(_visit(APPLE_PROXY_AGENT), token=message.token)
        if index % 2 == 0:
            record_open(_visit(PERSON_AGENT), token=message.token)
            if link is not None and index % 4 == 0:
                click_target(_visit(PERSON_AGENT), token=message.token, link_id=link.pk)
    flush_hits()
    return campaign


def _demo_people(count: int) -> list[Contact]:
    return list(Contact.objects.filter(email__endswith=".example.org").order_by("pk")[:count])


@transaction.atomic
def seed_requests() -> int:
    """Create one data-subject request in each state (unverified, expired, open, done, refused)."""
    if SubjectRequest.objects.filter(details__startswith="Demo:").exists():
        return 0
    people = _demo_people(5)
    if len(people) < 5:
        return 0
    now = timezone.now()
    staff = {"channel": SubjectRequest.Channel.EMAIL, "actor": None}
    for person, details in (
        (people[0], "Demo: please send me what you hold."),
        (people[1], "Demo: expired"),
    ):
        submit_request(
            kind=SubjectRequest.Kind.ACCESS,
            email=person.email,
            details=details,
            channel=SubjectRequest.Channel.WEB_FORM,
            client_address="192.0.2.10",
        )
    # Nobody clicked the second link in time: it expires like any request left unverified.
    SubjectRequest.objects.filter(details="Demo: expired").update(
        received_at=now - timedelta(days=3)
    )
    expire_unverified_requests()
    log_staff_request(
        kind=SubjectRequest.Kind.RECTIFICATION,
        email=people[2].email,
        received_at=now - timedelta(days=20),
        identity_check="Demo: replied from the address we hold.",
        details="Demo: my job title changed to Head of sales.",
        **staff,
    )
    done = log_staff_request(
        kind=SubjectRequest.Kind.OBJECTION,
        email=people[3].email,
        received_at=now - timedelta(days=9),
        identity_check="Demo: replied from the address we hold.",
        details="Demo: no more marketing e-mail, please.",
        **staff,
    )
    complete_request(request=done, actor=None, result="Demo: objection upheld; no more mail.")
    refused = log_staff_request(
        kind=SubjectRequest.Kind.ERASURE,
        email=people[4].email,
        received_at=now - timedelta(days=5),
        identity_check="Demo: replied from the address we hold.",
        details="Demo: delete my invoices too.",
        **staff,
    )
    reject_request(
        request=refused,
        actor=None,
        reason="Demo: invoices are kept for the tax authority until their legal hold ends.",
    )
    return 5


@transaction.atomic
def seed_breach() -> Breach | None:
    """Record one breach detected yesterday, its 72-hour clock running."""
    if Breach.objects.filter(title=BREACH_TITLE).exists():
        return None
    return record_breach(
        title=BREACH_TITLE,
        detected_at=timezone.now() - timedelta(hours=30),
        description="Demo: an unencrypted laptop holding a contact export was left on a train.",
        data_categories="Names, business e-mail addresses and phone numbers",
        likely_consequences="Unwanted e-mail; possible phishing.",
        measures="Remote wipe requested; the export's download links were revoked.",
        actor=None,
        channel=CHANNEL,
    )


def seed_import(*, client: Client) -> ImportBatch | None:
    """Import the sample list shipped with the demo, so its report lists rejected rows."""
    if ImportBatch.objects.filter(file_name=SAMPLE_LIST.name).exists():
        return None
    with SAMPLE_LIST.open("rb") as handle:
        batch = create_batch(
            upload=File(handle, name=SAMPLE_LIST.name),
            file_name=SAMPLE_LIST.name,
            client=client,
            source_kind=Source.Kind.CLIENT_LIST,
            list_name="Northwind spring fair 2026",
            attestation=Attestation(
                "consent",
                "Visitors ticked a box on the fair's badge scanner to hear from Northwind.",
                date(2026, 3, 14),
            ),
            mapping={"email": 0, "first_name": 1, "last_name": 2, "company": 3, "country": 4},
            actor=None,
            channel=CHANNEL,
        )
    return run_batch(batch_id=batch.pk)
