"""Log formats: a line for people, or one JSON object per record for log collectors.

Both write the same fields: time, level, logger, message, and, for records logged while handling a
request, its id; the request's own record adds its status and duration. Extra attributes that code
attaches to records (Django attaches the request object itself) are never written.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the fields a record is written with, in order; absent ones are left out."""
    fields: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    for name in ("request_id", "status", "duration_ms"):
        value = getattr(record, name, None)
        if value not in (None, ""):
            fields[name] = value
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        fields["exception"] = record.exc_text
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """`time level logger [request id] message key=value…`, the exception below."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        head = [fields.pop("time"), fields.pop("level"), fields.pop("logger")]
        if "request_id" in fields:
            head.append(f"[{fields.pop('request_id')}]")
        head.append(fields.pop("message"))
        exception = fields.pop("exception", "")
        head.extend(f"{name}={value}" for name, value in fields.items())
        return " ".join(str(part) for part in head) + (f"\n{exception}" if exception else "")
