"""The first-run tour on the admin's home page: one link per capability, on the demo's own data.

Shown to staff until they put it away (`dismiss_tour`), and back when they ask (`reopen_tour`).
Each step opens a screen with demo data behind it; opening one changes nothing, and a step whose
next click would (an upload, a form sent, notices mailed) says so. A step is offered only to staff
whose role may open its screen, and the tour only where the demo data exist: on a production
database without them there is nothing to show.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from crm.models import Contact, ContactSource, ImportBatch
from demo.models import TourState
from demo.showcase import SAMPLE_LIST, SENT_CAMPAIGN
from privacy.models import ConsentEvent
from privacy.staff.roles import is_administrator


@dataclass(frozen=True)
class Step:
    """One step: what to look at, where, and what a click there would change."""

    title: str
    url: str
    text: str
    changes: str = ""
    extra_url: str = ""
    extra_label: str = ""


@dataclass(frozen=True)
class Tour:
    """The steps offered to one member of staff, and whether they put the tour away."""

    steps: list[Step]
    dismissed: bool


def _contact_with_proof() -> Contact | None:
    """Return a demo contact with both a provenance record and a consent event."""
    return (
        Contact.objects.filter(
            Exists(ContactSource.objects.filter(contact=OuterRef("pk"))),
            Exists(ConsentEvent.objects.filter(contact=OuterRef("pk"))),
            email__endswith=".example.org",
        )
        .order_by("pk")
        .first()
    )


def tour_steps(user: AbstractBaseUser) -> list[Step]:
    """Return the tour's steps this user may follow, in order; none without the demo data."""
    sent = Campaign.objects.filter(name=SENT_CAMPAIGN).first()
    if sent is None:
        return []
    steps = []
    contact = _contact_with_proof()
    if contact is not None and user.has_perm("crm.view_contact"):
        steps.append(
            Step(
                "A contact, where it came from, and the proof of its consent",
                reverse("admin:crm_contact_change", args=[contact.pk]),
                "The provenance table says where the record came from and when the person was "
                "told; the consent ledger holds every grant with the wording shown.",
            )
        )
    batch = ImportBatch.objects.filter(file_name=SAMPLE_LIST.name).first()
    if batch is not None and user.has_perm("crm.add_importbatch"):
        steps.append(
            Step(
                "Import a client's list",
                reverse("admin:crm_importbatch_add"),
                f"Upload a CSV or XLSX file, map its columns and attest the legal basis. The "
                f"sample list {SAMPLE_LIST.name} (in demo/sample_lists/) was imported already: "
                "its report lists the rows it refused and why.",
                changes="Uploading a file adds contacts.",
                extra_url=reverse("admin:crm_importbatch_change", args=[batch.pk]),
                extra_label="The sample list's import and its rejected rows",
            )
        )
    if user.has_perm("campaigns.view_campaign"):
        steps.append(
            Step(
                "A campaign and its report",
                reverse("campaign-report", args=[sent.pk]),
                "Deliveries, opens, clicks and a bounce, as counts only. The spring newsletter "
                "next to it is a draft, ready to send.",
                extra_url=reverse("admin:campaigns_campaign_changelist"),
                extra_label="All campaigns",
            )
        )
    steps.append(
        Step(
            "The public pages: subscribe, and ask about your data",
            reverse("subscribe"),
            "What the public sees: one unticked box per purpose, and the request form for "
            "access, correction, erasure and the other rights. The mailed links land in "
            "var/mail/.",
            changes="Sending a form mails a confirmation link; nothing is stored before it is "
            "clicked.",
            extra_url=reverse("privacy-request-new"),
            extra_label="The request form",
        )
    )
    if user.has_perm("privacy.view_subjectrequest"):
        steps.append(
            Step(
                "The privacy officer's queue",
                reverse("admin:privacy_subjectrequest_changelist") + "?status=open",
                "Open requests, the nearest legal deadline first; the demo has one request in "
                "each state.",
            )
        )
    if user.has_perm("privacy.change_noticeversion"):
        steps.append(
            Step(
                "The art. 14 notices due now",
                reverse("admin:privacy_indirect_notices"),
                "People from the imported list wait for the notice that says where their data "
                "came from; the daily task sends it at 09:00.",
                changes="The button there mails the notices now.",
            )
        )
    if user.has_perm("privacy.view_retentionrule"):
        steps.append(
            Step(
                "A dry-run purge",
                reverse("admin:privacy_retentionrule_changelist"),
                "Each rule shows what is due now. Select rules and choose the dry-run action: it "
                "counts what would be removed and removes nothing.",
            )
        )
    if is_administrator(user):
        steps.append(
            Step(
                "The machinery: queues, periodic tasks, failures",
                reverse("operations"),
                "What runs, what waits and what failed; red when something silently stopped, "
                "such as beat. `manage.py health` prints the same for a monitoring system.",
            )
        )
    return steps


def tour_for(user: AbstractBaseUser) -> Tour:
    """Return the tour of this member of staff: the steps they may follow, and if put away."""
    state = TourState.objects.filter(user=user).first()
    return Tour(steps=tour_steps(user), dismissed=bool(state and state.dismissed_at))


def dismiss_tour(*, user: AbstractBaseUser) -> None:
    """Put the tour away for this member of staff, until they reopen it."""
    TourState.objects.update_or_create(user=user, defaults={"dismissed_at": timezone.now()})


def reopen_tour(*, user: AbstractBaseUser) -> None:
    """Show the tour again on this member of staff's home page."""
    TourState.objects.update_or_create(user=user, defaults={"dismissed_at": None})
