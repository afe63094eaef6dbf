"""Factories of campaigns: segments and campaigns built the way staff build them, and sent ones.

A campaign is a draft unless made with `sent=True`. Messages, links and events of a sent campaign
are made directly, as sending would make them, with a token like sending's.
"""

import secrets

import factory
from django.utils import timezone

from campaigns.models import Campaign, Message, MessageEvent, Segment, TrackedLink
from tests.crm.factories import ContactFactory
from tests.privacy.factories import PurposeFactory

HTML = (
    '<html><body><p>Hello {{ first_name|default("there") }},</p>'
    '<p><a href="https://www.example.org/offer?a=1&amp;b=2">See the offer</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> · '
    '<a href="{{ preferences_url }}">Preferences</a></p></body></html>'
)
TEXT = (
    "Hello {{ first_name }},\nSee https://www.example.org/offer\nUnsubscribe: {{ unsubscribe_url }}"
)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    class Params:
        sent = factory.Trait(
            status=Campaign.Status.SENT, started_at=factory.LazyFunction(timezone.now)
        )

    name = factory.Sequence(lambda n: f"Spring offer {n}")
    purpose = factory.SubFactory(PurposeFactory)
    segment = factory.SubFactory(SegmentFactory)
    subject = "Spring offer for {{ first_name }}"
    html_body = HTML
    text_body = TEXT


class TrackedLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackedLink

    campaign = factory.SubFactory(CampaignFactory, sent=True)
    url = factory.Sequence(lambda n: f"https://www.example.org/spring/{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    campaign = factory.SubFactory(CampaignFactory, sent=True)
    contact = factory.SubFactory(ContactFactory)
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    status = Message.Status.SENT
    sent_at = factory.LazyFunction(timezone.now)


class MessageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageEvent

    message = factory.SubFactory(MessageFactory)
    campaign = factory.LazyAttribute(lambda e: e.message.campaign)
    kind = MessageEvent.Kind.OPENED
    occurred_at = factory.LazyFunction(timezone.now)
