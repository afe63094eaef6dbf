"""What counts as a person's own activity, the clock of the inactivity retention rules.

Only the person's own actions move `last_activity_at`: submitting a form, confirming a
subscription, opening or clicking an e-mail, an order or a login pushed through the API. A staff
edit or an import never does, or the data of people who left would be kept alive by our own work.
"""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from crm.models import Contact


def record_activity(*, contact: Contact, at: datetime | None = None) -> None:
    """Move the contact's last activity forward to `at` (default now); never backwards."""
    moment = at or timezone.now()
    if contact.last_activity_at is None or contact.last_activity_at < moment:
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=moment)
        contact.last_activity_at = moment


def record_activities(*, moments: Mapping[int, datetime], chunk: int = 1000) -> int:
    """Move many contacts' last activity forward at once (opens and clicks written in batches).

    `moments` maps contact ids to the time of their latest act; a later time already stored wins.
    One statement per distinct moment (and chunk of ids): callers that round their moments (the
    tracking flush, to the minute) keep it to a few statements. Return how many contacts moved.
    """
    by_moment: dict[datetime, list[int]] = defaultdict(list)
    for pk, moment in moments.items():
        by_moment[moment].append(pk)
    moved = 0
    for moment, ids in by_moment.items():
        for start in range(0, len(ids), chunk):
            moved += (
                Contact.objects.filter(pk__in=ids[start : start + chunk])
                .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=moment))
                .update(last_activity_at=moment)
            )
    return moved
