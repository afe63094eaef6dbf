import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from crm.contacts import DuplicateContactError, create_contact, update_contact
from crm.models import Contact, Suppression
from crm.suppression import email_hash, suppress
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_create_normalises_and_writes_an_audit_event_without_personal_data(admin_user):
    contact = create_contact(
        actor=admin_user,
        channel="admin",
        first_name="Lotte",
        email="  Lotte.Peeters@Example.NET",
        phone="020 7946 0321",
        country="United Kingdom",
    )
    contact.refresh_from_db()
    assert contact.email == "lotte.peeters@example.net"
    assert contact.phone == "+442079460321"
    assert contact.country == "GB"
    event = AuditEvent.objects.get(object_id=str(contact.pk))
    assert event.action == AuditEvent.Action.CREATED
    assert event.actor == admin_user
    assert event.details == {"fields": ["country", "email", "first_name", "phone"]}
    assert "lotte" not in str(event.details).lower()


def test_an_address_differing_only_by_case_or_spaces_is_refused_pointing_at_the_existing():
    existing = ContactFactory(email="anna.jansen@example.org")
    with pytest.raises(DuplicateContactError) as exc:
        create_contact(actor=None, channel="api", email="  ANNA.Jansen@example.org ")
    assert exc.value.existing == existing
    assert f"contact #{existing.pk}" in exc.value.message_dict["email"][0]
    assert Contact.objects.count() == 1


def test_every_invalid_field_is_reported_at_once_and_nothing_is_saved():
    with pytest.raises(ValidationError) as exc:
        create_contact(
            actor=None, channel="api", email="not-an-address", phone="12", country="Atlantis"
        )
    assert set(exc.value.message_dict) == {"email", "phone", "country"}
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_invalid_update_leaves_the_stored_row_untouched():
    contact = ContactFactory(email="daan.bakker@example.org", phone="+31612345678")
    with pytest.raises(ValidationError):
        update_contact(
            contact=contact, actor=None, channel="api", phone="000", first_name="Changed"
        )
    stored = Contact.objects.get(pk=contact.pk)
    assert stored.phone == "+31612345678"
    assert stored.first_name != "Changed"


def test_moving_an_address_onto_another_contact_is_refused():
    ContactFactory(email="sanne.smit@example.org")
    other = ContactFactory(email="femke.visser@example.org")
    with pytest.raises(DuplicateContactError):
        update_contact(contact=other, actor=None, channel="api", email="Sanne.Smit@example.org")
    assert Contact.objects.get(pk=other.pk).email == "femke.visser@example.org"


def test_several_contacts_may_have_no_email():
    create_contact(actor=None, channel="admin", first_name="Bram", email="")
    create_contact(actor=None, channel="admin", first_name="Joris", email=None)
    assert Contact.objects.filter(email__isnull=True).count() == 2


def test_the_stored_hash_follows_the_address_so_suppressions_match_in_the_database():
    contact = create_contact(
        actor=None, channel="api", first_name="Ana", email="Ana.Pop@Example.org"
    )
    suppress(email="ana.pop@example.org", reason="unsubscribe")
    assert Contact.objects.filter(email_hash__in=suppressed_hashes_query()).get() == contact

    update_contact(contact=contact, actor=None, channel="api", email="ana.popescu@example.org")
    contact.refresh_from_db()
    assert contact.email_hash == email_hash("ana.popescu@example.org")
    assert not Contact.objects.filter(email_hash__in=suppressed_hashes_query()).exists()

    update_contact(contact=contact, actor=None, channel="api", email="")
    contact.refresh_from_db()
    assert contact.email_hash == ""


def suppressed_hashes_query():
    """The active suppressions' hashes, as an audience query would read them."""
    return Suppression.objects.filter(lifted_at__isnull=True).values("email_hash")
