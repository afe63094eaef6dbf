"""Factories of campaigns: segments and campaigns built the way staff build them, and sent ones.

A campaign is a draft unless made with `sent=True`. Messages, links and events of a sent campaign
are made directly, as sending would make them, with a token like sending's.
"""

import secrets
from datetime import timedelta

import factory
from django.utils import timezone

from campaigns.models import Campaign, Message, MessageEvent, Segment, TrackedLink
from privacy.consent.tracking import EMAIL_TRACKING
from privacy.models import Purpose
from tests.crm.factories import ContactFactory
from tests.privacy.factories import PurposeFactory, grant

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
    """A sent, tracked message to someone who agreed to e-mail tracking (`tracking_consent`).

    Sent an hour ago: an open seconds after sending would be a machine's.
    """

    class Meta:
        model = Message
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory, sent=True)
    contact = factory.SubFactory(ContactFactory)
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    status = Message.Status.SENT
    tracked = True
    sent_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))

    @factory.post_generation
    def tracking_consent(obj, create, extracted, **kwargs):
        if create and obj.contact_id and extracted is not False:
            # A transactional test empties the purposes the migrations seed: made again here.
            purpose = Purpose.objects.filter(code=EMAIL_TRACKING).first()
            grant(obj.contact, purpose or PurposeFactory(code=EMAIL_TRACKING, name="Analytics"))


class MessageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageEvent

    message = factory.SubFactory(MessageFactory)
    campaign = factory.LazyAttribute(lambda e: e.message.campaign)
    kind = MessageEvent.Kind.OPENED
    occurred_at = factory.LazyFunction(timezone.now)
