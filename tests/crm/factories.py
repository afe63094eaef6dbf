"""Factories for CRM rows: made-up people at reserved domains."""

import factory
from django.utils import timezone

from crm.models import Client, Company, Contact, ContactSource, Interaction, Source


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example.net")
    country = "NL"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Anna{n}")
    last_name = "Jansen"
    email = factory.Sequence(lambda n: f"anna.jansen{n}@example.org")
    country = "NL"
    company = factory.SubFactory(CompanyFactory)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    kind = Source.Kind.WEB_FORM
    name = factory.Sequence(lambda n: f"Form {n}")


class ContactSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactSource

    contact = factory.SubFactory(ContactFactory)
    source = factory.SubFactory(SourceFactory)
    collected_at = factory.LazyFunction(timezone.now)
    reference = factory.Sequence(lambda n: f"https://www.example.org/form/{n}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    contact = factory.SubFactory(ContactFactory)
    kind = Interaction.Kind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    subject = "Call about the spring offer"
    body = "Asked to be called back next month."
