"""Whether a message is tracked, and what that does to its body: the pixel and the click redirects.

Decided per batch, just before sending, from the sender's tracking basis and each person's
latest consent (`privacy.consent.tracking`): someone who withdrew gets untracked mail from the
next batch on. An untracked message carries no pixel and its links go straight to their targets;
the unsubscribe and preference links are never rewritten, so they work either way.
"""

from collections.abc import Mapping, Sequence

from campaigns import links
from campaigns.models import Campaign, Message
from privacy.consent.tracking import (
    EMAIL_TRACKING,
    trackable_contact_ids,
    web_activity_offer_ids,
)


def decide_tracking(campaign: Campaign, messages: Sequence[Message]) -> None:
    """Mark each message tracked or not for its person now, in memory and in the database.

    Whether its clicks may offer web activity is decided with it and kept in memory
    (`offers_web`), for the signed click links of the mail about to be built.
    """
    contact_ids = [m.contact_id for m in messages if m.contact_id]
    tracked = trackable_contact_ids(
        client_id=campaign.client_id, contact_ids=contact_ids, purpose_code=EMAIL_TRACKING
    )
    offers_web = web_activity_offer_ids(client_id=campaign.client_id, contact_ids=tracked)
    for message in messages:
        message.tracked = message.contact_id in tracked
        message.offers_web = message.contact_id in offers_web
    yes = [m.pk for m in messages if m.tracked]
    no = [m.pk for m in messages if not m.tracked]
    if yes:
        Message.objects.filter(pk__in=yes).update(tracked=True)
    if no:
        Message.objects.filter(pk__in=no).update(tracked=False)


def tracked_html(html: str, *, message: Message, link_ids: Mapping[str, int]) -> str:
    """Return the body with its click redirects and open pixel when the message is tracked."""
    if not message.tracked:
        return html
    token = message.token
    html = links.rewrite_links(
        html,
        token=token,
        message_id=message.pk,
        offers_web=getattr(message, "offers_web", False),
        link_ids=link_ids,
    )
    return links.append_open_pixel(html, token)
