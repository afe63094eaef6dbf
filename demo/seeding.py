"""Demo data: made-up companies and people at reserved domains, with provenance, in eight countries.

The activity that fills the other screens (a sent campaign, requests, a breach, an import) is in
`demo.showcase`. `seed_demo()` is idempotent: it finds what an earlier run created (by company
name, e-mail address and provenance reference) and adds only what is missing, so running it twice
changes nothing. Phone numbers come from the UK's range reserved for drama (+44 20 7946 0xxx), so
none is real.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignVersion, Segment
from core.audit import record_audit
from core.models import AuditEvent
from crm.companies import save_company
from crm.contacts import create_contact
from crm.models import Client, Company, Contact, Interaction, Source
from crm.provenance import get_source, record_provenance
from crm.suppression import may_contact
from demo import showcase
from privacy.consent.ledger import record_consent
from privacy.models import ConsentEvent, Purpose

CHANNEL = "command"

COMPANIES = [
    ("Brightlane Logistics", "NL", "Logistics"),
    ("Tulip Data Works", "NL", "Software"),
    ("Maasbank Advisory", "NL", "Financial services"),
    ("Atelier Brugge", "BE", "Design"),
    ("Scheldt Maritime", "BE", "Shipping"),
    ("Rheinwerk Systems", "DE", "Manufacturing"),
    ("Spree Health", "DE", "Healthcare"),
    ("Maison Lumière", "FR", "Retail"),
    ("Loire Analytique", "FR", "Consulting"),
    ("Carpathia Soft", "RO", "Software"),
    ("Dunărea Transport", "RO", "Logistics"),
    ("Liffey Foods", "IE", "Food and beverage"),
    ("Castellana Energía", "ES", "Energy"),
    ("Lagos Verdes Turismo", "PT", "Travel"),
]

NAMES = {
    "NL": (
        ["Anna", "Daan", "Sanne", "Joris", "Femke", "Bram"],
        ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Mulder"],
    ),
    "BE": (["Lotte", "Wout", "Elise", "Arne"], ["Peeters", "Maes", "Claes", "Wouters"]),
    "DE": (["Lena", "Jonas", "Mia", "Felix"], ["Schneider", "Fischer", "Weber", "Becker"]),
    "FR": (["Camille", "Hugo", "Chloé", "Louis"], ["Martin", "Bernard", "Dubois", "Moreau"]),
    "RO": (["Ioana", "Andrei", "Elena", "Mihai"], ["Popescu", "Ionescu", "Dumitru", "Stan"]),
    "IE": (["Aoife", "Cian", "Niamh", "Oisín"], ["Murphy", "Kelly", "Byrne", "Walsh"]),
    "ES": (["Lucía", "Pablo", "Marta", "Diego"], ["García", "López", "Martín", "Sánchez"]),
    "PT": (["Inês", "Tiago", "Beatriz", "Rui"], ["Silva", "Santos", "Ferreira", "Costa"]),
}
LANGUAGE = {"NL": "nl", "BE": "nl", "RO": "ro"}
JOB_TITLES = [
    "Marketing manager",
    "Head of sales",
    "Office manager",
    "CEO",
    "Buyer",
    "Communications officer",
    "Data analyst",
    "Event coordinator",
]


@dataclass(frozen=True)
class DemoSummary:
    """How many demo rows exist after seeding, and how many this run added."""

    companies: int
    contacts: int
    created_contacts: int


def _slug(text: str) -> str:
    return "".join(
        c for c in text.lower().replace(" ", "-") if c.isascii() and (c.isalnum() or c == "-")
    )


def _ascii(text: str) -> str:
    table = str.maketrans("éèçăâîșțíóúáñêã ", "eecaaistiouanea.")
    return text.lower().translate(table).replace("'", "")


def _sources(client: Client) -> list[tuple[Source, int | None]]:
    """Return the demo sources with, for indirect ones, the days after which people were told."""
    return [
        (get_source(kind=Source.Kind.WEB_FORM, name="Newsletter form"), None),
        (
            get_source(
                kind=Source.Kind.BUSINESS_DIRECTORY,
                name="Benelux business directory",
                url="https://directory.example.net/",
            ),
            20,
        ),
        (get_source(kind=Source.Kind.PUBLIC_WEBSITE, name="Company websites"), 25),
        (
            get_source(
                kind=Source.Kind.CLIENT_LIST, name="Northwind customer list 2026", client=client
            ),
            10,
        ),
        (get_source(kind=Source.Kind.EVENT, name="Amsterdam Marketing Summit 2026"), None),
        (get_source(kind=Source.Kind.STAFF_ENTRY, name="Entered by staff"), None),
    ]


def _seed_consents() -> None:
    """Give demo subscribers and some customers consent decisions with proof, once."""
    purposes = {p.code: p for p in Purpose.objects.filter(code__in=["newsletter", "analytics"])}
    if len(purposes) < 2:
        return
    demo_people = Contact.objects.filter(
        email__endswith=".example.org",
        relationship__in=[Contact.Relationship.SUBSCRIBER, Contact.Relationship.CUSTOMER],
    ).order_by("pk")
    for index, contact in enumerate(demo_people):
        for code in ("newsletter", "analytics")[: 1 + index % 2]:
            record_consent(
                contact=contact,
                purpose=purposes[code],
                action=ConsentEvent.Action.GRANT,
                wording=purposes[code].consent_text,
                channel=ConsentEvent.Channel.DOUBLE_OPT_IN,
                idempotency_key=f"demo:{contact.pk}",
            )


DEMO_CAMPAIGN = "Demo: spring newsletter"
DEMO_HTML = """<html><body>
<p>Hello {{ first_name|default("there") }},</p>
<p>Spring is here, and so are our new routes. <a href="https://northwind.example.org/spring">See
what is new</a>.</p>
<p><a href="DEMO_WEBSITE">Our spring routes and prices</a></p>
<p><a href="{{ preferences_url }}">Your preferences</a> ·
<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body></html>"""
DEMO_TEXT = """Hello {{ first_name|default("there") }},

Spring is here, and so are our new routes: https://northwind.example.org/spring
Our spring routes and prices: DEMO_WEBSITE

Your preferences: {{ preferences_url }}
Unsubscribe: {{ unsubscribe_url }}"""
DEMO_HTML_NL = """<html><body>
<p>Hallo {{ first_name|default("daar") }},</p>
<p>De lente is er, en onze nieuwe routes ook. <a href="https://northwind.example.org/spring">Bekijk
wat er nieuw is</a>.</p>
<p><a href="{{ preferences_url }}">Uw voorkeuren</a> ·
<a href="{{ unsubscribe_url }}">Afmelden</a></p>
</body></html>"""
DEMO_TEXT_NL = """Hallo {{ first_name|default("daar") }},

De lente is er, en onze nieuwe routes ook: https://northwind.example.org/spring

Uw voorkeuren: {{ preferences_url }}
Afmelden: {{ unsubscribe_url }}"""


def _seed_campaign() -> None:
    """Create a ready-to-send demo newsletter to subscribers and customers, once."""
    newsletter = Purpose.objects.filter(code="newsletter").first()
    if newsletter is None:
        return
    segment, _ = Segment.objects.get_or_create(
        name="Demo: subscribers and customers",
        defaults={
            "description": "Everyone who subscribed or bought from us.",
            "relationships": [Contact.Relationship.SUBSCRIBER, Contact.Relationship.CUSTOMER],
        },
    )
    campaign, _ = Campaign.objects.get_or_create(
        name=DEMO_CAMPAIGN,
        defaults={
            "purpose": newsletter,
            "segment": segment,
            "subject": 'Spring news for {{ first_name|default("you") }}',
            # The demo website that `make run` serves, with the web-activity script.
            "html_body": DEMO_HTML.replace("DEMO_WEBSITE", f"{settings.SITE_URL}/demo/website/"),
            "text_body": DEMO_TEXT.replace("DEMO_WEBSITE", f"{settings.SITE_URL}/demo/website/"),
        },
    )
    # Dutch readers get their own version; everyone else the English one.
    CampaignVersion.objects.get_or_create(
        campaign=campaign,
        language="nl",
        defaults={
            "subject": 'Lentenieuws voor {{ first_name|default("u") }}',
            "html_body": DEMO_HTML_NL,
            "text_body": DEMO_TEXT_NL,
        },
    )


def seed_demo(*, contacts_per_company: int = 5, seed: int = 2026) -> DemoSummary:
    """Create the demo people, then the activity that fills every screen, where not there yet."""
    summary = _seed_people(contacts_per_company=contacts_per_company, seed=seed)
    client = Client.objects.get(name="Northwind Travel")
    template = Campaign.objects.filter(name=DEMO_CAMPAIGN).first()
    if template is not None:
        showcase.seed_sent_campaign(template=template)
    showcase.seed_requests()
    showcase.seed_breach()
    showcase.seed_import(client=client)
    return DemoSummary(
        companies=Company.objects.count(),
        contacts=Contact.objects.count(),
        created_contacts=summary.created_contacts,
    )


@transaction.atomic
def _seed_people(*, contacts_per_company: int, seed: int) -> DemoSummary:
    """Create the demo companies, contacts, provenance and interactions that are not there yet."""
    rng = random.Random(seed)
    now = timezone.now()
    client, _ = Client.objects.get_or_create(
        name="Northwind Travel", defaults={"website": "https://northwind.example.org/"}
    )
    Client.objects.get_or_create(
        name="Contoso Events", defaults={"website": "https://contoso.example.net/"}
    )
    sources = _sources(client)
    created = 0
    for company_name, country, industry in COMPANIES:
        slug = _slug(company_name)
        company = Company.objects.filter(name=company_name).first() or save_company(
            company=Company(
                name=company_name,
                website=f"https://{slug}.example.org/",
                industry=industry,
                country=country,
                phone=f"+44 20 7946 0{rng.randrange(100, 999)}",
                address=f"{rng.randrange(1, 200)} Demo Street, {country}",
            )
        )
        first_names, last_names = NAMES[country]
        for index in range(contacts_per_company):
            first = first_names[(index + len(slug)) % len(first_names)]
            last = last_names[(index * 3 + len(slug)) % len(last_names)]
            email = f"{_ascii(first)}.{_ascii(last).replace(' ', '')}@{slug}.example.org"
            activity_days = rng.choice([3, 40, 200, 500, 800, 1000, None])
            source, informed_after = sources[rng.randrange(len(sources))]
            collected_at = now - timedelta(days=rng.randrange(30, 1100))
            # An address that was erased or opted out is never re-added, not even by demo data.
            if Contact.objects.filter(email=email).exists() or not may_contact(email=email):
                continue
            contact = create_contact(
                actor=None,
                channel=CHANNEL,
                first_name=first,
                last_name=last,
                email=email,
                phone=f"+44 20 7946 0{rng.randrange(100, 999)}" if index % 2 else "",
                job_title=rng.choice(JOB_TITLES),
                company=company,
                country=country,
                language=LANGUAGE.get(country, "en"),
                relationship=rng.choice(Contact.Relationship.values),
                last_activity_at=None
                if activity_days is None
                else now - timedelta(days=activity_days),
            )
            created += 1
            record_provenance(
                contact=contact,
                source=source,
                actor=None,
                channel=CHANNEL,
                collected_at=collected_at,
                reference=f"demo:{slug}:{index}",
                informed_at=(collected_at + timedelta(days=informed_after)).date()
                if informed_after is not None
                else None,
            )
            for days_ago, kind, subject in (
                (rng.randrange(1, 300), Interaction.Kind.CALL, "Introductory call"),
                (rng.randrange(1, 300), Interaction.Kind.NOTE, "Interested in the spring offer"),
            )[: 1 + index % 2]:
                interaction = Interaction.objects.create(
                    contact=contact,
                    kind=kind,
                    occurred_at=now - timedelta(days=days_ago),
                    subject=subject,
                    body="Demo note: asked for a follow-up by e-mail next quarter.",
                )
                record_audit(
                    actor=None, action=AuditEvent.Action.CREATED, obj=interaction, channel=CHANNEL
                )
    _seed_consents()
    _seed_campaign()
    return DemoSummary(
        companies=Company.objects.count(),
        contacts=Contact.objects.count(),
        created_contacts=created,
    )
