"""Reading raw bounce and complaint mail: what it reports, about whom, and about which message.

Bounces come in every shape: RFC 3464 delivery status notifications (whose recipient blocks are
all read, the first included, since some servers put everything in it), and the `text/plain` or
`multipart/mixed` notices of Gmail, Yahoo, qmail, Exim, Exchange and many appliances, whose
recipients GNU Mailman's detectors (`flufl.bounce`) find. Complaints come as ARF reports (RFC
5965) or as the non-ARF feedback loops of Hotmail/Outlook.com (the original attached, its
recipient in `X-HmXmrOriginalRecipient`) and of AOL (`scomp`). The original message is found by
our token in the returned headers or by its Message-ID anywhere in the report.
"""

import email
import re
from dataclasses import dataclass
from email.message import Message as MailMessage
from email.utils import getaddresses, parseaddr

from django.conf import settings
from flufl.bounce import all_failures

from campaigns.bounces.classification import classify
from campaigns.bounces.recording import SOFT, TOKEN_PATTERN, Feedback
from campaigns.models import MessageEvent

Kind = MessageEvent.Kind
ADDRESS = re.compile(r"[^\s<>()\[\]\"';:,=]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
DSN_FIELDS = ("final-recipient", "original-recipient", "action", "status")


@dataclass(frozen=True)
class Report:
    """What one piece of returned mail says about one recipient."""

    kind: str
    recipient: str
    detail: str = ""

    def feedback(self, *, token: str) -> Feedback:
        """Return the feedback to record for this report."""
        return Feedback(kind=self.kind, detail=self.detail, token=token, recipient=self.recipient)


def read_mail(mail: MailMessage) -> list[Feedback]:
    """Return the feedback a bounce or complaint carries; [] for mail that is neither."""
    reports = _complaints(mail) or _dsn_reports(mail) or _notice_reports(mail)
    if not reports:
        return []
    token = _token(mail, _all_text(mail))
    return [report.feedback(token=token) for report in reports]


# Complaints -------------------------------------------------------------------------------------


def _complaints(mail: MailMessage) -> list[Report]:
    for part in mail.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            fields = _fields(part)
            recipient = _address(fields.get("original-rcpt-to", "")) or _original_to(mail)
            return [Report(kind=Kind.COMPLAINED, recipient=recipient)]
        if part.get("X-HmXmrOriginalRecipient"):
            recipient = _address(part["X-HmXmrOriginalRecipient"])
            return [Report(kind=Kind.COMPLAINED, recipient=recipient)]
    sender = parseaddr(mail.get("From", ""))[1].lower()
    if "scomp" in (mail.get("X-Loop", "") or "").lower() or sender.startswith("scomp@"):
        return [Report(kind=Kind.COMPLAINED, recipient=_original_to(mail))]
    return []


def _original_to(mail: MailMessage) -> str:
    for original in _returned_headers(mail):
        found = getaddresses(original.get_all("To", []))
        if found and found[0][1]:
            return found[0][1]
    return ""


# Delivery status notifications ------------------------------------------------------------------


def _dsn_reports(mail: MailMessage) -> list[Report]:
    reports: list[Report] = []
    notice = _notice_text(mail)
    for part in mail.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _dsn_blocks(part):
            report = _dsn_report(block, notice)
            if report is not None:
                reports.append(report)
    return reports


def _dsn_blocks(part: MailMessage) -> list[MailMessage]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, MailMessage)]
    text = part.get_payload(decode=True) or b""
    chunks = re.split(r"\r?\n\s*\r?\n", text.decode("utf-8", "replace"))
    return [email.message_from_string(chunk.strip() + "\n") for chunk in chunks if chunk.strip()]


def _dsn_report(block: MailMessage, notice: str) -> Report | None:
    fields = {key.lower(): " ".join(str(value).split()) for key, value in block.items()}
    if not any(fields.get(name) for name in DSN_FIELDS):
        return None
    # The address we sent to; Final-Recipient may be a forwarding target rewritten on the way.
    recipient = _address(fields.get("original-recipient", "")) or _address(
        fields.get("final-recipient", "")
    )
    action = fields.get("action", "").split(" ")[0].lower().rstrip(",;")
    status = fields.get("status", "").split(" ")[0]
    if action in ("delivered", "relayed", "expanded"):
        return Report(kind=Kind.DELIVERED, recipient=recipient)
    if action == "delayed" or status.startswith("4"):
        return Report(kind=Kind.BOUNCED, recipient=recipient, detail=SOFT)
    if action not in ("failed", "failure") and not status.startswith("5"):
        return None
    diagnostic = " ".join(
        filter(None, [fields.get("diagnostic-code", ""), fields.get("status", "")])
    )
    # No reason in the block: the human-readable part may give one (e.g. "mailbox full").
    detail = classify(status=status, diagnostic=diagnostic, default="") or _verdict_for(
        notice, recipient, status=status
    )
    return Report(kind=Kind.BOUNCED, recipient=recipient, detail=detail)


# Plain-text notices -----------------------------------------------------------------------------


def _notice_reports(mail: MailMessage) -> list[Report]:
    temporary, permanent = all_failures(mail)
    notice = _notice_text(mail)
    reports = []
    for raw in sorted(permanent):
        address = raw.decode("utf-8", "replace")
        reports.append(
            Report(
                kind=Kind.BOUNCED,
                recipient=address,
                detail=_verdict_for(notice, address),
            )
        )
    for raw in sorted(temporary - permanent):
        reports.append(
            Report(kind=Kind.BOUNCED, recipient=raw.decode("utf-8", "replace"), detail=SOFT)
        )
    return reports


def _verdict_for(notice: str, address: str, *, status: str = "") -> str:
    """Classify the notice's lines about one address, else the whole notice."""
    lines = notice.splitlines()
    near = " ".join(
        " ".join(lines[max(0, i - 2) : i + 4])
        for i, line in enumerate(lines)
        if address and address.lower() in line.lower()
    )
    return (near and classify(status=status, diagnostic=near, default="")) or classify(
        status=status, diagnostic=notice
    )


# Text and headers -------------------------------------------------------------------------------


def _notice_text(mail: MailMessage) -> str:
    """Return the report's own words: its text parts, without the returned original."""
    texts: list[str] = []
    _collect_text(mail, texts, include_returned=False)
    return "\n".join(texts)


def _all_text(mail: MailMessage) -> str:
    texts: list[str] = []
    _collect_text(mail, texts, include_returned=True)
    return "\n".join(texts)


def _collect_text(part: MailMessage, texts: list[str], *, include_returned: bool) -> None:
    kind = part.get_content_type()
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, MailMessage):
                if child.get_content_type() == "message/rfc822" and not include_returned:
                    continue
                _collect_text(child, texts, include_returned=include_returned)
        return
    if kind.startswith("text/") and (include_returned or kind != "text/rfc822-headers"):
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
        if kind == "text/html":
            text = re.sub(r"<[^>]+>", " ", text)
        texts.append(text)


def _returned_headers(mail: MailMessage) -> list[MailMessage]:
    found: list[MailMessage] = []
    for part in mail.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], MailMessage):
                found.append(inner[0])
        elif kind == "text/rfc822-headers":
            text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
            found.append(email.message_from_string(text))
    return found


def _token(mail: MailMessage, text: str) -> str:
    """Return our token from the returned headers, or from a Message-ID anywhere in the report."""
    for original in _returned_headers(mail):
        token = (original.get("X-CRM-Message") or "").strip()
        if TOKEN_PATTERN.match(token):
            return token
    header = re.search(r"X-CRM-Message:\s*([A-Za-z0-9_-]{20,64})\b", text, re.IGNORECASE)
    if header:
        return header.group(1)
    domain = re.escape(settings.SITE_DOMAIN)
    message_id = re.search(rf"<?([A-Za-z0-9_-]{{20,64}})@{domain}\b", text, re.IGNORECASE)
    return message_id.group(1) if message_id else ""


def _fields(part: MailMessage) -> dict[str, str]:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else _dsn_blocks(part)
    fields: dict[str, str] = {}
    for block in blocks:
        if isinstance(block, MailMessage):
            fields.update({k.lower(): str(v) for k, v in block.items()})
    return fields


def _address(value: str) -> str:
    """Return the address of a header value such as `rfc822; someone@example.org`."""
    found = ADDRESS.search(value.split(";", 1)[-1] if ";" in value else value)
    return found.group(0).strip(".").lower() if found else ""
