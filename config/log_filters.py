"""Logging filters: log records carry ids and paths, never personal data or link tokens.

Code logs ids, not people; this filter is the net under that rule for what slips through anyway.
A signed link is a key to someone's preferences, request or export, and Django logs the path of
every 4xx answer, so the token segment of those paths is replaced. E-mail addresses anywhere in a
message or a traceback (a database error quoting a duplicate key, say) become `[email]`. Names are
not recognisable in free text, so they are stopped where they enter: a model instance passed as a
log argument is written as its label and id, never its `str()` (which for a contact is the name),
and values of mapping arguments under personal keys (name, e-mail, phone...) are replaced.
One exception keeps the worker's log readable: Celery's own records pass the task's dotted name
(`privacy.tasks.purge_expired`) under the key `name`, and that is kept.
"""

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.db import models

# /subscribe/confirm/<t>/, /preferences/<t>/, /u/<t>/, /privacy/requests/{verify,status,download}/
# <t>/, and the tracking paths /t/o/<t>.gif, /t/c/<t>/<link>/ and /t/k/<signed>/.
TOKEN_IN_PATH = re.compile(
    r"(/(?:subscribe/confirm|preferences|u|privacy/requests/(?:verify|status|download)|t/[ock])/)"
    r"[^/\s?\"']+"
)
REDACTED = r"\1[token]"
# Local part and domain as mail systems accept them, percent-encoded "@" included (paths).
EMAIL_ADDRESS = re.compile(r"[\w.!#$%&'*+=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.UNICODE)
PERSONAL_KEY = re.compile(
    r"(^|_)(e_?mail|name|first_name|last_name|full_name|surname|phone|address)($|_)", re.I
)


def redact(text: str) -> str:
    """Return the text with every public-link token and e-mail address replaced."""
    return EMAIL_ADDRESS.sub("[email]", TOKEN_IN_PATH.sub(REDACTED, text))


def _safe_argument(value: Any) -> Any:
    """Return a log argument that cannot carry a person's name into the log."""
    if isinstance(value, models.Model):
        return f"<{value._meta.label} #{value.pk}>"
    return value


# A task's name as Celery logs it: a dotted Python path, never a person's name with a space.
TASK_NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


def _is_task_name(logger_name: str, key: str, value: Any) -> bool:
    """Whether a `name` argument of a Celery record is the task's dotted name."""
    return (
        key == "name"
        and logger_name.split(".")[0] == "celery"
        and isinstance(value, str)
        and TASK_NAME.match(value) is not None
    )


def _safe_mapping(values: Mapping, logger_name: str = "") -> dict:
    return {
        key: "[redacted]"
        if isinstance(key, str)
        and PERSONAL_KEY.search(key)
        and not _is_task_name(logger_name, key, value)
        else _safe_argument(value)
        for key, value in values.items()
    }


class RedactPersonalData(logging.Filter):
    """Rewrite a record's message and traceback without link tokens, addresses or names."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = _safe_mapping(record.args, record.name)
        elif isinstance(record.args, tuple):
            record.args = tuple(_safe_argument(value) for value in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
