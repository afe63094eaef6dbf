"""What a tracking request does: buffer an open; check a click's link, buffer it, say where to."""

import time

from django.http import HttpRequest

from campaigns.models import Message, TrackedLink
from campaigns.tracking.buffers import CLICK, OPEN, Hit, hit_buffer
from campaigns.tracking.geo import request_country
from campaigns.tracking.machines import agent_class
from campaigns.tracking.tokens import read_click_token
from campaigns.tracking.visitors import with_visitor_reference
from privacy.consent.tracking import may_offer_web_activity

# Largest value of a PostgreSQL bigint: a longer link id in a URL can match nothing.
MAX_ID = 2**63 - 1
# Link id -> (campaign id, address, until): links do not change once a campaign is sent, and a
# process keeps those of the campaigns being read for a minute, so a signed click costs no query.
_LINKS: dict[int, tuple[int, str, float]] = {}
LINKS_KEPT = 4096
LINK_SECONDS = 60


def record_open(request: HttpRequest, *, token: str) -> None:
    """Buffer an open of the message with this token, with the country, time and agent letter.

    No query: whether the token is ours and whether its person may be tracked is decided by the
    flush before anything is written, so an open of someone who may not be tracked is dropped
    there and never reaches the database.
    """
    hit = Hit(
        kind=OPEN,
        token=token,
        link_id=None,
        country=request_country(request),
        at=time.time(),
        agent=agent_class(request.headers.get("User-Agent", "")),
    )
    hit_buffer().append(hit.encode())


def _link(link_id: int) -> tuple[int, str] | None:
    """Return the campaign and address of a tracked link, remembered by this process."""
    now = time.monotonic()
    found = _LINKS.get(link_id)
    if found is None or found[2] < now:
        row = TrackedLink.objects.filter(pk=link_id).values_list("campaign_id", "url").first()
        if row is None:
            return None
        if len(_LINKS) >= LINKS_KEPT:
            _LINKS.clear()
        found = _LINKS[link_id] = (*row, now + LINK_SECONDS)
    return found[0], found[1]


def _buffer_click(request: HttpRequest, *, token: str, link_id: int) -> None:
    """Buffer a click of the message with this token on this link, with country, time and agent."""
    hit = Hit(
        kind=CLICK,
        token=token,
        link_id=link_id,
        country=request_country(request),
        at=time.time(),
        agent=agent_class(request.headers.get("User-Agent", "")),
    )
    hit_buffer().append(hit.encode())


def signed_click_target(request: HttpRequest, *, value: str) -> str | None:
    """Return where a signed click goes, buffering it; None: not a click link of ours.

    No query once this process knows the link: the signature says the link was sent in this
    message, which was tracked (only a tracked message has signed links), and whether web
    activity may be offered. Whether its person is still trackable is decided by the flush, as
    for an open; a forged value redirects nowhere.
    """
    click = read_click_token(value)
    if click is None or not 0 < click.link_id <= MAX_ID:
        return None
    link = _link(click.link_id)
    if link is None:
        return None
    _buffer_click(request, token=click.token, link_id=click.link_id)
    if click.offers_web:
        return with_visitor_reference(link[1], message_id=click.message_id)
    return link[1]


def click_target(request: HttpRequest, *, token: str, link_id: int) -> str | None:
    """Return where an unsigned (older) click goes, buffering it if tracked; None: no such link.

    Only a link of the campaign the message belongs to is ever returned: the link's campaign must
    be the token's, so nothing in the URL can point the redirect elsewhere. An untracked message
    has plain links, so a click arriving here is of an old or forwarded mail: it still redirects,
    and records nothing. A tracked click whose person may be offered web-activity tracking goes
    on with a short-lived visitor reference for the website's cookie banner.
    """
    if link_id > MAX_ID:
        return None
    rows = list(
        Message.objects.filter(token=token)
        .values_list(
            "pk",
            "campaign_id",
            "campaign__client_id",
            "contact_id",
            "tracked",
            "contact__is_restricted",
        )
        .order_by()[:1]
    )
    if not rows:
        return None
    message_id, campaign_id, client_id, contact_id, tracked, restricted = rows[0]
    link = _link(link_id)
    if link is None or link[0] != campaign_id:
        return None
    if not tracked or restricted or contact_id is None:
        return link[1]
    _buffer_click(request, token=token, link_id=link_id)
    if may_offer_web_activity(contact_id=contact_id, client_id=client_id):
        return with_visitor_reference(link[1], message_id=message_id)
    return link[1]
