"""Factories for sent campaigns: a campaign with its links and one message per made-up person.

Messages are made directly, as sending would make them, with a token like sending's.
"""

import secrets

import factory
from django.utils import timezone

from campaigns.models import Campaign, Message, MessageEvent, TrackedLink
from tests.campaigns import sending_factories
from tests.crm.factories import ContactFactory


class CampaignFactory(sending_factories.CampaignFactory):
    """A campaign already sent."""

    status = Campaign.Status.SENT
    started_at = factory.LazyFunction(timezone.now)


class TrackedLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackedLink

    campaign = factory.SubFactory(CampaignFactory)
    url = factory.Sequence(lambda n: f"https://www.example.org/spring/{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    campaign = factory.SubFactory(CampaignFactory)
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
