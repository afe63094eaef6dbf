"""What counts as a person's own activity, the clock of the inactivity retention rules.

Only the person's own actions move `last_activity_at`: submitting a form, confirming a
subscription, opening or clicking an e-mail, an order or a login pushed through the API. A staff
edit or an import never does, or the data of people who left would be kept alive by our own work.
"""

from datetime import datetime

from django.utils import timezone

from crm.models import Contact


def record_activity(*, contact: Contact, at: datetime | None = None) -> None:
    """Move the contact's last activity forward to `at` (default now); never backwards."""
    moment = at or timezone.now()
    if contact.last_activity_at is None or contact.last_activity_at < moment:
        Contact.objects.filter(pk=contact.pk).update(last_activity_at=moment)
        contact.last_activity_at = moment
