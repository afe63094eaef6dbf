"""The pseudonymised engagement export for analysis (GDPR art. 4(5), 25, 89(1); DESIGN rule 5).

One CSV row per event of a campaign: a keyed hash standing for the person, the campaign, the kind
of event, its time, the country and the link; no name, address or token. The hash is an HMAC of
the contact's id under a key derived from `PRIVACY_HASH_KEY` for this purpose alone, so the same
person has the same key across campaigns and exports (analysis needs that), while the column can
be joined neither to the suppression list nor to the contacts' address hashes, which use the
undiluted key on addresses. Pseudonymised data is still personal data: the export needs
`campaigns.export_engagement` and a reason, and each one writes an audit event with the reason and
the count. Restricted people are left out, and so are the opens and clicks of people the sender
may no longer track (consent withdrawn, basis changed) and those a machine made.
"""

import csv
import hashlib
import hmac
import io
from collections.abc import Callable, Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign, MessageEvent
from core.audit import record_audit
from core.models import AuditEvent
from crm.exports_csv import clean_reason, neutralise_formula
from crm.models import Contact
from privacy.consent.tracking import EMAIL_TRACKING, basis_filter, tracking_basis

KEY_PURPOSE = b"campaigns.engagement-export"
COLUMNS = ("person", "campaign id", "campaign", "event", "occurred at", "country", "link")
CHUNK_SIZE = 2000


def person_keyer() -> Callable[[int], str]:
    """Return the pseudonym function of engagement exports, its key derived once per export."""
    key = hmac.new(settings.PRIVACY_HASH_KEY.encode(), KEY_PURPOSE, hashlib.sha256).digest()
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def pseudonym(contact_id: int) -> str:
        one = keyed.copy()
        one.update(str(contact_id).encode())
        return one.hexdigest()[:32]

    return pseudonym


def person_key(contact_id: int) -> str:
    """Return the pseudonym of a contact in engagement exports."""
    return person_keyer()(contact_id)


def engagement_events(campaign: Campaign) -> QuerySet:
    """Return the campaign's events that may be exported: people linked, not restricted.

    Opens and clicks only of people the sender may still track, and never a machine's.
    """
    basis = tracking_basis(campaign.client_id).email_tracking
    trackable = Contact.objects.filter(basis_filter(basis, EMAIL_TRACKING))
    engagement = Q(kind__in=[MessageEvent.Kind.OPENED, MessageEvent.Kind.CLICKED])
    return (
        MessageEvent.objects.filter(campaign=campaign, message__contact__isnull=False)
        .exclude(message__contact__is_restricted=True)
        .exclude(engagement & ~Q(message__contact__in=trackable))
        .exclude(engagement & Q(origin=MessageEvent.Origin.MACHINE))
    )


def record_engagement_export(*, campaign: Campaign, actor: AbstractBaseUser, reason: str) -> int:
    """Audit an export of the campaign's engagement with its reason; return how many rows."""
    reason = clean_reason(reason)
    with transaction.atomic():
        count = engagement_events(campaign).count()
        record_audit(
            actor=actor,
            action=AuditEvent.Action.EXPORTED,
            obj=campaign,
            channel="admin",
            reason=reason,
            details={"engagement_export": True, "events": count},
        )
    return count


def engagement_csv(campaign: Campaign) -> Iterator[str]:
    """Yield the export as CSV text, a header then one line per event, in chunks."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    yield out.getvalue()
    rows = engagement_events(campaign).order_by("pk")
    fields = ("pk", "message__contact_id", "kind", "occurred_at", "country", "link__url")
    name = neutralise_formula(campaign.name)
    pseudonym = person_keyer()
    last = 0
    while True:
        # Keyset chunks: memory stays flat however many events the campaign has.
        chunk = list(rows.filter(pk__gt=last).values_list(*fields)[:CHUNK_SIZE])
        if not chunk:
            return
        last = chunk[-1][0]
        out = io.StringIO()
        writer = csv.writer(out)
        for _, contact_id, kind, at, country, url in chunk:
            writer.writerow(
                [
                    pseudonym(contact_id),
                    campaign.pk,
                    name,
                    kind,
                    timezone.localtime(at).isoformat(timespec="seconds"),
                    country,
                    neutralise_formula(url or ""),
                ]
            )
        yield out.getvalue()
