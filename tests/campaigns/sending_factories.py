"""Segments and campaigns for the sending tests, built the way staff build them."""

import factory

from campaigns.models import Campaign, Segment
from tests.privacy.factories import PurposeFactory

HTML = (
    '<html><body><p>Hello {{ first_name|default:"there" }},</p>'
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

    name = factory.Sequence(lambda n: f"Spring offer {n}")
    purpose = factory.SubFactory(PurposeFactory)
    segment = factory.SubFactory(SegmentFactory)
    subject = "Spring offer for {{ first_name }}"
    html_body = HTML
    text_body = TEXT
