"""Declare the campaigns' models in the personal-data registry."""

from campaigns.models import (
    Campaign,
    CampaignVersion,
    EmailLayout,
    Message,
    MessageEvent,
    Segment,
    TrackedLink,
    TrackingFlush,
    VisitorReference,
    WebVisit,
)
from core.registry import Anonymise, Delete, registry

registry.declare(
    Message,
    category="campaign_history",
    description="Which campaigns were sent to a person, and when.",
    subject="contact",
    fields=(),
    export_fields=("campaign", "status", "sent_at"),
    # The message stays, unlinked, so that a campaign's sent count stays true.
    erasure=Anonymise(fields=("contact",)),
)
registry.declare(
    MessageEvent,
    category="campaign_history",
    description="Deliveries, opens, clicks, bounces and opt-outs of a person's messages, with the "
    "country only.",
    subject="message__contact",
    fields=(),
    export_fields=("kind", "link", "country", "occurred_at"),
    erasure=Delete(),
)
registry.declare(
    WebVisit,
    category="web_activity",
    description="Pages viewed and files downloaded on the sender's website after a tracked "
    "click, with the cookie banner accepted: path without query, title, referrer's domain.",
    subject="contact",
    fields=("path", "title", "referrer_domain"),
    export_fields=("kind", "host", "path", "title", "referrer_domain", "campaign", "occurred_at"),
    erasure=Delete(),
)
registry.exempt(Segment, reason="A saved filter: criteria, not people.")
registry.exempt(Campaign, reason="What was sent and to which segment; recipients are messages.")
registry.exempt(CampaignVersion, reason="A campaign's text in another language.")
registry.exempt(EmailLayout, reason="An e-mail template: the sender's header and footer.")
registry.exempt(TrackedLink, reason="The links of a campaign's body.")
registry.exempt(TrackingFlush, reason="A batch id and counts of buffered hits written as events.")
registry.exempt(
    VisitorReference, reason="A spent visitor reference's random nonce and when it was used."
)
