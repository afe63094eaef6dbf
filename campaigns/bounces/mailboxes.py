"""The bounce mailbox: an mbox file, a Maildir folder or an IMAP mailbox, read on a schedule.

An operator points the campaigns' return path (and the complaint feedback loops) at a mailbox and
names it in `BOUNCE_MAILBOX`; beat feeds it every `BOUNCE_MAILBOX_EVERY` seconds, or staff run
`manage.py feed_bounces`. Each mail is read and recorded in its own transaction, so a run that
is interrupted loses nothing and a second run of the same mail records nothing new (each fact is
recorded once per message). A Maildir's mail is flagged seen once read, an IMAP mailbox's too, so
the next run reads only what arrived since; an mbox file is read whole each time.
"""

import contextlib
import email
import imaplib
import mailbox
from collections import Counter
from collections.abc import Callable, Iterator
from email import policy
from email.message import Message as MailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from campaigns.bounces.recording import apply_feedback, find_message
from campaigns.bounces.reports import read_mail
from core.models import AuditEvent

# Parsing errors of malformed mail (bad encodings, broken MIME): the mail is counted, not read.
UNREADABLE = (ValueError, TypeError, LookupError, AttributeError, IndexError, UnicodeError)


class MailboxUnavailable(Exception):
    """The bounce mailbox named cannot be opened: a missing path, a refused login."""


def parse(raw: bytes) -> MailMessage:
    """Parse one raw mail as the bounce reader expects it."""
    return email.message_from_bytes(raw, policy=policy.compat32)


def feed_mailbox(location: str) -> Counter:
    """Record the bounces and complaints of every new mail at `location`; return counts.

    Counts: recorded, already (recorded before), unmatched (a report about no message of ours),
    unreadable (malformed mail), other (mail that is not a report).
    """
    outcome: Counter = Counter()
    for raw, done in _messages(location):
        outcome.update(feed_message(raw))
        done()
    return outcome


def feed_message(raw: bytes) -> Counter:
    """Record what one raw mail reports; return its counts (see `feed_mailbox`)."""
    outcome: Counter = Counter()
    try:
        items = read_mail(parse(raw))
    except UNREADABLE:
        outcome["unreadable"] += 1
        return outcome
    if not items:
        outcome["other"] += 1
    for item in items:
        if find_message(item) is None:
            outcome["unmatched"] += 1
        elif apply_feedback(feedback=item, channel=AuditEvent.Channel.MAILBOX):
            outcome["recorded"] += 1
        else:
            outcome["already"] += 1
    return outcome


def _messages(location: str) -> Iterator[tuple[bytes, Callable[[], None]]]:
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("imap", "imaps"):
        yield from _imap(location)
        return
    path = Path(location.removeprefix("mbox:").removeprefix("maildir:"))
    if path.is_dir():
        yield from _maildir(path)
    elif path.is_file():
        yield from _mbox(path)
    else:
        raise MailboxUnavailable(f"No mbox file or Maildir folder at {path}.")


def _nothing() -> None:
    return None


def _mbox(path: Path) -> Iterator[tuple[bytes, Callable[[], None]]]:
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key), _nothing
    finally:
        box.close()


def _maildir(path: Path) -> Iterator[tuple[bytes, Callable[[], None]]]:
    if not (path / "cur").is_dir() or not (path / "new").is_dir():
        raise MailboxUnavailable(f"{path} is not a Maildir folder (no cur/ and new/).")
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in list(box.iterkeys()):
        message = box.get_message(key)
        if "S" in message.get_flags():
            continue

        def seen(key=key, message=message) -> None:
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message

        yield box.get_bytes(key), seen


def _imap(location: str) -> Iterator[tuple[bytes, Callable[[], None]]]:
    url = urlsplit(location)
    folder = unquote(url.path.lstrip("/")) or "INBOX"
    secure = url.scheme.lower() == "imaps"
    connect = imaplib.IMAP4_SSL if secure else imaplib.IMAP4
    try:
        client = connect(url.hostname or "localhost", url.port or (993 if secure else 143))
        client.login(unquote(url.username or ""), unquote(url.password or ""))
        status, _ = client.select(f'"{folder}"')
        if status != "OK":
            raise MailboxUnavailable(f"The IMAP folder {folder} cannot be opened.")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxUnavailable(f"The IMAP mailbox cannot be opened: {exc}") from exc
    try:
        _, found = client.uid("SEARCH", None, "UNSEEN")
        for uid in (found[0] or b"").split():
            # BODY.PEEK leaves the mail unseen until it has been recorded.
            _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if raw is None:
                continue

            def seen(uid=uid) -> None:
                client.uid("STORE", uid, "+FLAGS", "(\\Seen)")

            yield raw, seen
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
