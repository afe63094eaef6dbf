"""The class of a bounce from its enhanced status code (RFC 3463) and its diagnostic text.

A 5.x.x status alone does not mean the address is dead: receivers answer 5.7.x for DMARC and
spam filters, 5.2.2 for a full mailbox, and many put a bare 5.0.0 or 550 in front of any reason.
So the diagnostic text is read first, in order of what it proves: a sender-side or policy reason
(the address is fine), a full mailbox (it will be fine), a recipient that does not exist; then the
status code's subject and detail. A permanent failure in a bounce mail that states no reason is
*soft*: it counts towards a suspension, but never marks a good address dead on a guess. Phrases
come from the bounces of the major mailbox providers and MTAs (Gmail, Yahoo and AOL,
Outlook/Exchange, Postfix, Exim, qmail, Sendmail, Domino, MDaemon, appliances).
"""

import re

from campaigns.bounces.recording import DEAD, POLICY, SOFT

QUOTED_HEADER = re.compile(r"^[ \t>]*(?:subject|from|to|cc|date|sent|message-id):.*$", re.I | re.M)
SMTP_REPLY = re.compile(r"(?:^|[\s;:(\[])([45])\d\d(?=[\s-])")
STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def _phrases(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


POLICY_TEXT = _phrases(
    r"\bdmarc\b",
    r"\bspf\b",
    r"\bdkim\b",
    r"spam",
    r"unsolicited",
    r"junk",
    r"(?:black|block|deny|bad)[ -]?list",
    r"\b(?:rbl|dnsbl|uribl)\b",
    r"spamhaus|spamcop|barracuda|sorbs|proofpoint|cloudmark",
    r"reputation",
    r"\bpolic(?:y|ies)\b",
    r"rate[ -]?limit",
    r"too many (?:messages|connections|recipients|e-?mails|sessions)",
    r"message (?:is )?too (?:large|big|long)",
    r"(?:message|mail) size|size (?:limit|exceed)",
    r"maximum (?:inbound )?message size",
    r"content (?:rejected|filter)",
    r"virus|malware|phish|suspicious",
    r"sender (?:address )?(?:rejected|denied|blocked|refused|not allowed|verify failed)",
    r"(?:sender|\bip\b|host|domain|network|client|connection|server) (?:is |has been )?"
    r"(?:blocked|banned|not allowed|refused|rejected|denied|blacklisted)",
    r"not (?:allowed|authori[sz]ed|permitted) to (?:send|relay)",
    r"relay(?:ing)? (?:denied|not permitted|access denied)",
    r"authentication (?:required|failed)",
    r"reverse dns|\bptr\b",
    r"\bblocked\b|\bbanned\b|not accepting mail from",
)

FULL_TEXT = _phrases(
    r"quota",
    r"mail ?(?:box|folder) (?:is )?full|\bfull mailbox\b|mailbox full",
    r"insufficient (?:system )?storage|disk space|space not enough|storage space",
    r"over ?quota|exceed(?:ed|ing|s)? (?:their |the )?(?:storage|quota)",
)

DEAD_TEXT = _phrases(
    r"user(?:name)? (?:is )?unknown|unknown (?:user|recipient|address|mailbox|local[ -]part|alias)",
    r"unknown or illegal user|illegal user|addressee unknown|user not known",
    r"no such (?:user|mailbox|recipient|address|account|person|domain|host|local user)",
    r"(?:does not|doesn'?t|not) exist",
    r"invalid (?:recipient|mailbox|address|user|final delivery userid)",
    r"(?:user|recipient|mailbox|address|account) (?:was )?not found|recipnotfound",
    r"not (?:a valid|our) (?:user|customer)|is not hbc e-mail users",
    r"no mail ?box here|mailbox (?:is )?unavailable|mailbox not (?:available|found)",
    r"account (?:has been |is )?(?:disabled|deactivated|discontinued|closed|suspended|"
    r"expired|inactive|terminated|deleted)",
    r"mailbox (?:has been |is )?(?:disabled|deactivated|closed|inactive|removed)",
    r"no longer (?:valid|available|active|in use|exists|with)|has moved|moved permanently",
    r"not listed in (?:the )?(?:domino )?(?:public )?directory|not listed in address book",
    r"doesn'?t have an? \S+ account|does not have an? \S+ account",
    r"does not have a final e-?mail delivery point|wrong or no longer valid",
    r"host (?:or domain name )?not found|name service error|domain (?:name )?not found",
    r"unroutable|unrouteable|could not find a gateway|no matches to nameserver query",
    r"recipient address rejected|bad destination|undeliverable address|no valid recipients",
    r"unknown host|host unknown|null mx|did not exactly match",
    # The same in the languages of the CRM's senders and of common European providers.
    r"n'existe pas|existiert nicht|unbekannt|no existe|non esiste|bestaat niet|onbekend",
)


def status_codes(text: str) -> list[str]:
    """Return the enhanced status codes (class.subject.detail) found in a text, in order."""
    return [".".join(m) for m in STATUS.findall(text or "")]


def classify(*, status: str = "", diagnostic: str = "", default: str = SOFT) -> str:
    """Return the class of a bounce (dead, soft or policy) from its status and diagnostic text.

    `default` is the answer when neither states a reason.
    """
    # A quoted subject line of the original ("Virus in ma mail") is no reason for the bounce.
    text = " ".join(QUOTED_HEADER.sub(" ", diagnostic or "").split())
    if POLICY_TEXT.search(text):
        return POLICY
    if FULL_TEXT.search(text):
        return SOFT
    codes = [c for c in [status.strip(), *status_codes(text)] if STATUS.fullmatch(c)]
    replies = SMTP_REPLY.findall(text)
    # "450 <x>: Recipient address rejected: Greylisted" has no enhanced code, and is temporary.
    temporary = bool(codes or replies) and all(c.startswith("4") for c in [*codes, *replies])
    if DEAD_TEXT.search(text) and not temporary:
        return DEAD
    if temporary:
        return SOFT
    return _by_code(codes) or default


def _by_code(codes: list[str]) -> str:
    for code in codes:
        klass, subject, detail = code.split(".")
        if subject == "7" or (subject, detail) in {("3", "4"), ("2", "3"), ("5", "3")}:
            return POLICY
        if (subject, detail) in {("1", "7"), ("1", "8")}:
            return POLICY  # the sender's own address was refused
        if klass == "5" and (subject, detail) in {
            ("1", "1"),
            ("1", "2"),
            ("1", "3"),
            ("1", "6"),
            ("1", "10"),
            ("2", "1"),
        }:
            return DEAD
        if (subject, detail) in {("2", "2"), ("3", "1")} or subject == "4":
            return SOFT
    return ""
