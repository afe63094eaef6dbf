"""Calendar arithmetic the legal deadlines use: "one month after", "one year after", "16 years"."""

import calendar
from datetime import date, datetime
from typing import TypeVar

from django.utils import timezone

Day = TypeVar("Day", date, datetime)


def add_months(moment: Day, months: int) -> Day:
    """Return the same day `months` later (or earlier), or the month's last day when shorter.

    An aware datetime is counted on the local calendar (TIME_ZONE), the one people read: in UTC, a
    request received just after midnight on 31 January is still on the 30th and would fall due on
    1 March instead of the last day of February.
    """
    local = (
        timezone.localtime(moment)
        if isinstance(moment, datetime) and timezone.is_aware(moment)
        else moment
    )
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)
