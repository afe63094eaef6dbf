"""Logging filters: log records carry ids and paths, never the signed tokens of public links.

A signed link is a key to someone's preferences, request or export; Django logs the path of every
4xx answer, so the token segment of those paths is replaced before any handler writes the record.
"""

import logging
import re

# /subscribe/confirm/<t>/, /preferences/<t>/, /u/<t>/, /privacy/requests/{verify,status,download}/
# <t>/, and the tracking paths /t/o/<t>.gif and /t/c/<t>/<link>/.
TOKEN_IN_PATH = re.compile(
    r"(/(?:subscribe/confirm|preferences|u|privacy/requests/(?:verify|status|download)|t/[oc])/)"
    r"[^/\s?\"']+"
)
REDACTED = r"\1[token]"


def redact(text: str) -> str:
    """Return the text with every public-link token replaced."""
    return TOKEN_IN_PATH.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Replace public-link tokens in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True
