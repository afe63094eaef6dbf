"""Telling machine-made opens and clicks from the person's own, from what the request shows.

Privacy proxies fetch every image of a message on delivery (Apple Mail Privacy Protection, whose
fetcher sends the bare user agent `Mozilla/5.0`), and security scanners follow every link seconds
after delivery, often with a browser's user agent. Neither is the person reading: such events are
reported apart and never count as the person's activity. The signals, none of which stores the IP
address or the user agent itself:

- the user agent, reduced at request time to one letter (`agent_class`): a known fetcher, scanner
  or script is a machine, a mail client or browser is a human, anything else (none) unknown;
- the timing against delivery: an open or click within `TRACKING_MACHINE_SECONDS` of sending;
- every link at once: clicks on two or more different links of one message within
  `BURST_SECONDS` of each other, which no reader does.

An event with none of these signals from a recognisable mail client or browser is human; one
without a user agent is unknown.
"""

import re
from datetime import datetime, timedelta

from campaigns.models import MessageEvent

HUMAN, MACHINE, UNKNOWN = "h", "m", ""
Origin = MessageEvent.Origin
BURST_SECONDS = 2

MACHINE_AGENTS = re.compile(
    r"bot\b|crawler|spider|scanner|preview|python|curl|wget|go-http|java/|okhttp|libwww|"
    r"headless|phantomjs|barracuda|mimecast|proofpoint|symantec|messagelabs|trend ?micro|"
    r"forcepoint|ironport|safelinks|linkcheck|microsoft office protocol discovery|"
    r"checkpoint|fortinet|sophos",
    re.IGNORECASE,
)
# Apple Mail Privacy Protection's image fetcher: the bare token and nothing after it.
BARE_AGENT = re.compile(r"^Mozilla/5\.0$")
# Mail clients and browsers, including the image proxies that fetch when the person opens.
HUMAN_AGENTS = re.compile(
    r"Mozilla/5\.0 \(|Outlook|Thunderbird|GoogleImageProxy|YahooMailProxy|Microsoft Office/",
    re.IGNORECASE,
)


def agent_class(user_agent: str) -> str:
    """Return what a user agent says of its sender: HUMAN, MACHINE or UNKNOWN (one letter)."""
    agent = user_agent.strip()
    if not agent:
        return UNKNOWN
    if BARE_AGENT.match(agent) or MACHINE_AGENTS.search(agent):
        return MACHINE
    if HUMAN_AGENTS.search(agent):
        return HUMAN
    return UNKNOWN


def origin_of(
    *, agent: str, at: datetime, sent_at: datetime | None, machine_seconds: int, burst: bool
) -> str:
    """Return the origin of one open or click from its agent letter, its timing and the burst."""
    if agent == MACHINE or burst:
        return Origin.MACHINE.value
    if sent_at is not None and at - sent_at < timedelta(seconds=machine_seconds):
        return Origin.MACHINE.value
    if agent == HUMAN:
        return Origin.HUMAN.value
    return Origin.UNKNOWN.value


def burst_messages(clicks: list[tuple[int, int, datetime]]) -> set[int]:
    """Return the messages among (message, link, time) clicks with different links in one burst."""
    by_message: dict[int, list[tuple[datetime, int]]] = {}
    for message_id, link_id, at in clicks:
        by_message.setdefault(message_id, []).append((at, link_id))
    window = timedelta(seconds=BURST_SECONDS)
    found = set()
    for message_id, moments in by_message.items():
        moments.sort()
        for i, (at, link_id) in enumerate(moments):
            if any(other != link_id and later - at <= window for later, other in moments[i + 1 :]):
                found.add(message_id)
                break
    return found
