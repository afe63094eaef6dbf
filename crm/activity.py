"""What counts as a person's own activity, the clock of the inactivity retention rules.

Only the person's own actions move `last_activity_at`: submitting a form, confirming a
subscription, opening or clicking an e-mail, an order or a login pushed through the API. A staff
edit or an import never does, or the data of people who left would be kept alive by our own work.
"""

from collections.abc import Mapping
from datetime import datetime

from django.db.models import Case, DateTimeField, Q, Value, When
from django.utils import timezone

from crm.models import Contact


def record_activity(*, contact: Contact, at: datetime | None = None) -> None:
    """Move the contact's last activity forward to `at` (default now); never backwards."""
    moment = at or timezone.now()
    if contact.last_activity_at is None or contact.last_activity_at < moment:
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=moment)
        contact.last_activity_at = moment


def record_activities(moments: Mapping[int, datetime], *, chunk: int = 500) -> int:
    """Move many contacts' last activity forward at once (opens and clicks written in batches).

    `moments` maps contact ids to the time of their latest act; a later time already stored wins.
    Return how many contacts moved.
    """
    moved = 0
    items = list(moments.items())
    for start in range(0, len(items), chunk):
        part = dict(items[start : start + chunk])
        latest = Case(
            *(When(pk=pk, then=Value(at)) for pk, at in part.items()), output_field=DateTimeField()
        )
        moved += (
            Contact.objects.filter(pk__in=part)
            .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=latest))
            .update(last_activity_at=latest)
        )
    return moved
