"""The contact's timeline: every declared record, newest first, paged, by kind, per role."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from core.registry import registry
from crm.invoices import record_invoice
from crm.models import Interaction
from crm.timeline import contact_timeline, timeline_sources
from privacy.staff.roles import ADMINISTRATOR, ROLES
from tests.campaigns.factories import MessageEventFactory, MessageFactory
from tests.crm.factories import ContactFactory, ContactSourceFactory, InteractionFactory
from tests.privacy.factories import PurposeFactory, grant
from tests.privacy.test_roles import run_roles_migration

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() < len(ROLES) + 1:
        run_roles_migration()

    def make(role: str):
        slug = role.lower().replace(" ", "-")
        user = django_user_model.objects.create_user(
            username=slug, email=f"{slug}@example.org", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def history():
    """A person with provenance, a call, a consent, a message opened, and an invoice."""
    contact = ContactFactory()
    now = timezone.now()
    ContactSourceFactory(contact=contact, collected_at=now - timedelta(days=10))
    InteractionFactory(contact=contact, occurred_at=now - timedelta(days=5), subject="Call")
    grant(contact, PurposeFactory(), occurred_at=now - timedelta(days=4))
    message = MessageFactory(
        contact=contact, sent_at=now - timedelta(days=3), tracking_consent=False
    )
    MessageEventFactory(message=message, occurred_at=now - timedelta(days=2))
    record_invoice(
        contact=contact,
        number="F-1",
        issued_on=date.today() - timedelta(days=1),
        due_on=date.today(),
        amount=Decimal("10.00"),
        currency="EUR",
        actor=None,
        channel="api",
    )
    return contact


def titles(page) -> list[str]:
    return [entry.title for entry in page.entries]


def test_the_timeline_shows_every_kind_newest_first_with_links(history, staff):
    officer = staff("Privacy officer")

    page = contact_timeline(contact=history, user=officer, size=50)

    records = [e.title for e in page.entries if e.kind != "audit"]
    assert records == [
        "Invoice",
        "Message event",
        "Message",
        "Consent event",
        "Interaction",
        "Provenance",
    ]
    opened = next(e for e in page.entries if e.title == "Message event")
    assert "Opened" in opened.summary
    # An event has no page of its own: it links to its message.
    assert opened.url == reverse("admin:campaigns_message_change", args=[history.messages.get().pk])
    assert {"provenance", "interactions", "consent", "campaign_history", "billing", "audit"} <= set(
        page.kinds
    )


def test_the_timeline_is_paged_and_filtered_by_kind(history, staff):
    officer = staff("Privacy officer")

    first = contact_timeline(contact=history, user=officer, size=2)
    second = contact_timeline(contact=history, user=officer, size=2, page=2)
    consent = contact_timeline(contact=history, user=officer, kind="consent")

    assert first.has_next and second.has_next
    assert {e.record for e in first.entries}.isdisjoint({e.record for e in second.entries})
    shown = first.entries + second.entries
    assert all(a.at >= b.at for a, b in pairwise(shown))
    assert titles(consent) == ["Consent event"]


def test_a_role_sees_only_what_it_may_see_elsewhere(history, staff):
    marketer = staff("Marketing")

    page = contact_timeline(contact=history, user=marketer, size=50)

    assert "Invoice" not in titles(page)
    assert "audit" not in page.kinds
    assert "Interaction" in titles(page)


def test_a_declared_model_is_on_the_timeline_by_its_declaration(history, staff, monkeypatch):
    officer = staff("Privacy officer")
    labels = {s.declaration.label for s in timeline_sources()}
    assert {"crm.interaction", "campaigns.messageevent", "privacy.subjectrequest"} <= labels
    assert "privacy.consentstate" not in labels

    declarations = dict(registry.declarations)
    declarations[Interaction] = replace(declarations[Interaction], timeline_field=None)
    monkeypatch.setattr(registry, "declarations", declarations)

    assert "Interaction" not in titles(contact_timeline(contact=history, user=officer, size=50))


def test_the_api_timeline_is_audited_once_and_refuses_bad_paging(history, staff, client):
    officer = staff("Privacy officer")
    client.force_login(officer)
    url = reverse("api:contact-timeline", args=[history.pk])
    before = AuditEvent.objects.filter(action=AuditEvent.Action.VIEWED).count()

    answer = client.get(url, {"page_size": 3})
    refused = client.get(url, {"page": 0})

    assert answer.status_code == 200
    body = answer.json()
    assert len(body["entries"]) == 3 and body["has_next"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEWED).count() == before + 1
    assert refused.status_code == 400
    assert "page" in refused.json()


def test_the_contact_page_shows_the_timeline_and_possible_duplicates(history, staff, client):
    twin = ContactFactory(
        first_name=history.first_name, last_name=history.last_name, company=history.company
    )
    client.force_login(staff("Marketing"))
    before = AuditEvent.objects.filter(action=AuditEvent.Action.VIEWED).count()

    page = client.get(reverse("admin:crm_contact_change", args=[history.pk]))
    full = client.get(reverse("admin:crm_contact_timeline", args=[history.pk]), {"kind": "consent"})

    text = page.content.decode()
    assert "Timeline" in text and "Message event" in text
    assert reverse("admin:crm_contact_merge", args=[history.pk, twin.pk]) in text
    assert "same name and company" in text
    assert full.status_code == 200 and "Consent event" in full.content.decode()
    assert "Message event" not in full.content.decode()
    # One view of the page, one of the full timeline.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEWED).count() == before + 2
