"""The links of campaign e-mails: the open pixel, click redirects and the one-click unsubscribe.

The tracking paths `/t/o/<token>.gif` and `/t/c/<token>/<link id>/` are part of the stable public
interface; the tracking views serve them. A message token is a bearer key to one recipient's
message: it goes into their e-mail and nowhere else (never into logs or reports).
"""

import re
from collections.abc import Mapping
from html import unescape
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from campaigns.tracking.tokens import click_token
from crm.models import Client, Contact
from privacy.links import preferences_token, unsubscribe_token

PLACEHOLDER = "--token--"

# The href of an <a> tag, quoted either way; group 2 is the value.
ANCHOR_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
TRACKABLE = re.compile(r"https?://", re.IGNORECASE)
BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def open_pixel_url(token: str) -> str:
    """Return the absolute URL of the message's open pixel."""
    return f"{settings.SITE_URL}/t/o/{token}.gif"


def click_url(token: str, link_id: int) -> str:
    """Return the unsigned click URL of mail sent before signed clicks (still answered)."""
    return f"{settings.SITE_URL}/t/c/{token}/{link_id}/"


def signed_click_url(*, token: str, message_id: int, link_id: int, offers_web: bool) -> str:
    """Return the absolute URL that records a click on the link and redirects to it, no query."""
    value = click_token(token=token, message_id=message_id, link_id=link_id, offers_web=offers_web)
    return f"{settings.SITE_URL}/t/k/{value}/"


class PersonalLinks:
    """Build the preference-centre and unsubscribe URLs of many recipients of one sender.

    The same URLs as `privacy.links.preferences_url` and `unsubscribe_url`, with the path
    resolved once per batch instead of once per message (a sensible share of the time per
    message at hundreds of messages a second).
    """

    def __init__(self, client: Client | None) -> None:
        self.client = client
        self.preferences = f"{settings.SITE_URL}{reverse('preferences', args=[PLACEHOLDER])}"
        self.unsubscribe = f"{settings.SITE_URL}{reverse('unsubscribe', args=[PLACEHOLDER])}"

    def preferences_url(self, contact: Contact) -> str:
        """Return the absolute URL of the contact's preference centre."""
        return self.preferences.replace(PLACEHOLDER, preferences_token(contact))

    def unsubscribe_url(self, contact: Contact, token: str) -> str:
        """Return the one-click unsubscribe URL of one message; `?m=` ties it to the campaign."""
        signed = unsubscribe_token(contact, self.client)
        return f"{self.unsubscribe.replace(PLACEHOLDER, signed)}?m={token}"


def unsubscribe_mailto(token: str) -> str:
    """Return the mailto half of List-Unsubscribe; the subject names the message, not the person."""
    return f"mailto:{settings.UNSUBSCRIBE_MAILTO}?subject={quote(f'unsubscribe {token}')}"


def trackable_links(html: str) -> list[str]:
    """Return the distinct http(s) targets of the body's <a href>, in order of appearance."""
    seen: dict[str, None] = {}
    for found in ANCHOR_HREF.finditer(html):
        url = unescape(found.group(3)).strip()
        # A link with a placeholder differs per person: it is sent as it is, never tracked.
        if TRACKABLE.match(url) and "{{" not in url and len(url) <= 2000:
            seen.setdefault(url, None)
    return list(seen)


def rewrite_links(
    html: str, *, token: str, message_id: int, offers_web: bool, link_ids: Mapping[str, int]
) -> str:
    """Point each tracked <a href> at its signed click redirect; leave every other link as it is."""

    def redirect(found: re.Match) -> str:
        link_id = link_ids.get(unescape(found.group(3)).strip())
        if link_id is None:
            return found.group(0)
        quote_char = found.group(2)
        url = signed_click_url(
            token=token, message_id=message_id, link_id=link_id, offers_web=offers_web
        )
        return f"{found.group(1)}{quote_char}{url}{quote_char}"

    return ANCHOR_HREF.sub(redirect, html)


def append_open_pixel(html: str, token: str) -> str:
    """Add the one-pixel open image at the end of the body (before </body> when there is one)."""
    pixel = (
        f'<img src="{open_pixel_url(token)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px">'
    )
    ends = list(BODY_END.finditer(html))
    if not ends:
        return f"{html}{pixel}"
    at = ends[-1].start()
    return f"{html[:at]}{pixel}{html[at:]}"
