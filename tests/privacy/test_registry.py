import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test.utils import isolate_apps

from core.registry import Anonymise, Delete, Registry, registry
from crm.models import Contact, ContactSource, Interaction
from privacy.requests.exports import export_rows
from tests.crm.factories import ContactFactory, ContactSourceFactory, InteractionFactory


def test_every_installed_model_with_personal_data_is_declared_or_exempt():
    assert registry.undeclared_models() == {}


@isolate_apps("crm")
def test_an_undeclared_model_that_looks_personal_is_reported():
    class Lead(models.Model):
        contact_email = models.CharField(max_length=200)

        class Meta:
            app_label = "crm"

    class Note(models.Model):
        contact = models.ForeignKey(Contact, on_delete=models.CASCADE)

        class Meta:
            app_label = "crm"

    class Tag(models.Model):
        label = models.CharField(max_length=20)

        class Meta:
            app_label = "crm"

    found = registry.undeclared_models([Lead, Note, Tag])
    assert found == {
        "crm.Lead": ["contact_email: looks personal"],
        "crm.Note": ["contact: relation to Contact"],
    }


def test_a_declaration_naming_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="unknown fields"):
        Registry().declare(
            Interaction,
            category="x",
            description="x",
            subject="contact",
            fields=("mood",),
            erasure=Delete(),
        )


def test_a_model_cannot_be_declared_twice_or_exempted_without_reason():
    fresh = Registry()
    fresh.declare(
        Interaction,
        category="x",
        description="x",
        subject="contact",
        fields=("body",),
        erasure=Delete(),
    )
    with pytest.raises(ValueError, match="already"):
        fresh.exempt(Interaction, reason="no")
    with pytest.raises(ValueError, match="reason"):
        fresh.exempt(ContactSource, reason=" ")


@pytest.mark.django_db
def test_rows_for_a_subject_are_only_that_persons(admin_user):
    mine = ContactSourceFactory()
    InteractionFactory(contact=mine.contact)
    InteractionFactory()  # somebody else's
    other = ContactFactory()
    LogEntry.objects.log_actions(
        user_id=admin_user.pk, queryset=[mine.contact, other], action_flag=CHANGE
    )
    ids = [mine.contact.pk]
    assert list(registry.get(Interaction).rows_for(contact_ids=ids)) == list(
        mine.contact.interactions.all()
    )
    assert registry.get(Contact).rows_for(contact_ids=ids).get() == mine.contact
    log_rows = registry.get(LogEntry).rows_for(contact_ids=ids)
    assert all(row.content_type == ContentType.objects.get_for_model(Contact) for row in log_rows)


@pytest.mark.django_db
def test_export_gives_the_personal_and_context_fields_as_json_data():
    contact = ContactFactory(first_name="Beatriz", email="beatriz.silva@example.org", country="PT")
    (exported,) = export_rows(registry.get(Contact), [contact.pk])
    assert exported["first_name"] == "Beatriz"
    assert exported["email"] == "beatriz.silva@example.org"
    assert exported["country"] == "PT"
    assert exported["company"] == contact.company.name
    assert isinstance(exported["created_at"], str)


@pytest.mark.django_db
def test_erasure_actions_delete_dependants_then_the_person_leaving_others_alone():
    target = ContactSourceFactory().contact
    InteractionFactory(contact=target)
    bystander = InteractionFactory().contact
    ids = [target.pk]
    for model in (Interaction, ContactSource, Contact):
        declaration = registry.get(model)
        declaration.erasure.apply(declaration.rows_for(contact_ids=ids))
    assert not Contact.objects.filter(pk=target.pk).exists()
    assert not Interaction.objects.filter(contact_id=target.pk).exists()
    assert Contact.objects.filter(pk=bystander.pk).exists()
    assert bystander.interactions.count() == 1


@pytest.mark.django_db
def test_anonymise_blanks_fields_and_keeps_the_row():
    contact = ContactFactory(first_name="Rui", email="rui.costa@example.org", phone="+351211234567")
    changed = Anonymise(fields=("first_name", "email", "phone")).apply(
        Contact.objects.filter(pk=contact.pk)
    )
    contact.refresh_from_db()
    assert changed == 1
    assert (contact.first_name, contact.email, contact.phone) == ("", None, "")


@pytest.mark.django_db
def test_address_keyed_rows_are_found_by_the_contacts_stored_hashes():
    """A contact's suppression and certificates are found by its address, and no one else's."""
    from crm.models import Suppression
    from crm.suppression import suppress

    person = ContactFactory(email="ana.lopez@example.org")
    other = ContactFactory(email="someone@example.org")
    nameless = ContactFactory(email="")
    mine = suppress(email=person.email, reason=Suppression.Reason.UNSUBSCRIBE)
    suppress(email=other.email, reason=Suppression.Reason.UNSUBSCRIBE)

    found = registry.get(Suppression).rows_for(contact_ids=[person.pk, nameless.pk])

    assert list(found) == [mine]
