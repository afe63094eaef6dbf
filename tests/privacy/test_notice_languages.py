"""Mails people get unasked (art. 14 notice, breach, changed statement), in their language."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from crm.models import Contact, Source
from privacy.accountability.breaches import add_affected_subjects, send_breach_notice_batch
from privacy.accountability.indirect_notices import send_indirect_notices
from privacy.consent.notices import send_material_change_batch
from privacy.models import Purpose
from tests.crm.factories import ContactFactory, ContactSourceFactory, SourceFactory
from tests.privacy.factories import NoticeVersionFactory, PurposeFactory
from tests.privacy.test_breaches import a_breach

pytestmark = pytest.mark.django_db


def test_the_art_14_notice_is_in_the_contacts_language():
    PurposeFactory(legal_basis=Purpose.LegalBasis.LEGITIMATE_INTEREST)
    ContactSourceFactory(
        source=SourceFactory(kind=Source.Kind.BUSINESS_DIRECTORY, name="Benelux directory"),
        contact=ContactFactory(first_name="Joost", email="joost.smit@example.org", language="nl"),
        collected_at=timezone.now() - timedelta(days=1),
    )

    assert send_indirect_notices()["sent"] == 1

    (message,) = mail.outbox
    assert message.subject == "Waarom wij uw contactgegevens hebben"
    assert message.body.startswith("Beste Joost,")
    for text in (
        "- Benelux directory (Openbare bron: bedrijvengids), op ",
        "Uw naam, uw e-mailadres",
        "(rechtsgrond: Gerechtvaardigd belang (art. 6 lid 1 sub f AVG))",
        "Uw rechten",
    ):
        assert text in message.body


def test_a_breach_notification_is_in_the_contacts_language():
    breach = a_breach()
    add_affected_subjects(
        breach=breach,
        contacts=Contact.objects.filter(
            pk=ContactFactory(first_name="Ioana", email="ioana.marin@example.org", language="ro").pk
        ),
        actor=None,
        channel="admin",
    )

    assert send_breach_notice_batch(breach_id=breach.pk) == 1

    (message,) = mail.outbox
    assert message.subject == (
        "Important: un incident privind datele dumneavoastră cu caracter personal"
    )
    assert message.body.startswith("Bună ziua, Ioana,")
    assert "Ce s-a întâmplat" in message.body
    # What the officer wrote about the breach is quoted as written.
    assert "stolen from an employee's car" in message.body


def test_the_mail_about_a_changed_statement_is_in_each_contacts_language():
    notice = NoticeVersionFactory(is_material_change=True)
    for language in ("nl", "ro", ""):
        ContactFactory(relationship=Contact.Relationship.CUSTOMER, language=language)

    assert send_material_change_batch(notice_id=notice.pk) == 3

    assert sorted(m.subject for m in mail.outbox) == [
        "Declarația noastră de confidențialitate s-a modificat",
        "Onze privacyverklaring is gewijzigd",
        "Our privacy statement has changed",
    ]
