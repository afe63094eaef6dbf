"""Bulk actions: audited with count and ids, by role only, a changed selection skipped by reason."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from config.celery import app as celery_app
from core.models import AuditEvent, OutboxTask
from crm.models import BulkAction, Contact, ContactList, Suppression
from crm.suppression import suppress
from crm.timeline import contact_timeline
from privacy import bulk
from privacy.bulk import run_bulk_action, start_bulk_action
from privacy.merging import merge_contacts
from privacy.models import ConsentEvent, ErasureCertificate
from privacy.staff.roles import ADMINISTRATOR, ROLES
from tests.privacy.factories import ContactFactory
from tests.privacy.test_roles import run_roles_migration
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

ALL_BULK = {
    "bulk_add_tags",
    "bulk_remove_tags",
    "bulk_set_relationship",
    "bulk_set_owner",
    "bulk_add_to_list",
    "bulk_remove_from_list",
    "bulk_record_consent",
    "bulk_start_erasure",
}
# Which bulk actions each role is offered on the contact list, and no other.
EXPECTED = {
    "Marketing": ALL_BULK - {"bulk_start_erasure"},
    "Support": set(),
    "Privacy officer": ALL_BULK,
    ADMINISTRATOR: ALL_BULK,
}


@pytest.fixture
def staff(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() < len(ROLES) + 1:
        run_roles_migration()

    def make(role: str):
        slug = role.lower().replace(" ", "-")
        user, _ = django_user_model.objects.get_or_create(
            username=slug, defaults={"email": f"{slug}@example.org", "is_staff": True}
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


def bulk_events(kind: str):
    return AuditEvent.objects.filter(details__kind=kind, object_id="")


@pytest.mark.parametrize("role", list(EXPECTED))
def test_no_role_gets_a_bulk_action_it_should_not(staff, client, role):
    user = staff(role)
    client.force_login(user)
    ContactFactory()

    page = client.get(reverse("admin:crm_contact_changelist"))
    # No action at all: the list shows no action menu.
    menu = page.context["action_form"]
    offered = {name for name, _ in menu.fields["action"].choices} if menu else set()

    assert offered & ALL_BULK == EXPECTED[role]
    for kind in BulkAction.Kind.values:
        if f"bulk_{kind}" not in EXPECTED[role]:
            with pytest.raises(PermissionDenied):
                start_bulk_action(kind=kind, contacts=Contact.objects.all(), params={}, actor=user)
    assert not BulkAction.objects.exists()


def test_tags_are_added_and_removed_with_one_audit_event_each(staff):
    marketer = staff("Marketing")
    people = ContactFactory.create_batch(3)

    added = start_bulk_action(
        kind="add_tags",
        contacts=Contact.objects.all(),
        params={"tags": ["fair 2026", " vip ", ""]},
        actor=marketer,
    )
    start_bulk_action(
        kind="remove_tags",
        contacts=[people[0].pk],
        params={"tags": ["vip"]},
        actor=marketer,
    )

    assert added.acted == 3 and added.finished_at is not None
    assert sorted(people[0].tags.values_list("name", flat=True)) == ["fair 2026"]
    assert sorted(people[1].tags.values_list("name", flat=True)) == ["fair 2026", "vip"]
    event = bulk_events("add_tags").get()
    assert event.actor == marketer
    assert event.details["count"] == 3
    assert sorted(event.details["ids"]) == sorted(p.pk for p in people)
    assert bulk_events("remove_tags").get().details["ids"] == [people[0].pk]


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("add_tags", {"tags": [" ", ""]}, "tags"),
        ("set_relationship", {"relationship": "friend"}, "relationship"),
        ("set_owner", {"owner": 999_999}, "owner"),
        ("add_to_list", {"list": 999_999}, "list"),
        ("record_consent", {"purpose": "nope", "action": "grant"}, "purpose"),
        ("start_erasure", {"reason": "  "}, "reason"),
    ],
)
def test_bad_parameters_are_refused_and_nothing_changes(staff, kind, params, field):
    officer = staff("Privacy officer")
    ContactFactory.create_batch(2)
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        start_bulk_action(kind=kind, contacts=Contact.objects.all(), params=params, actor=officer)

    assert field in refused.value.message_dict
    assert AuditEvent.objects.count() == before
    assert not BulkAction.objects.exists()
    assert Contact.objects.count() == 2


def test_a_selection_that_changed_meanwhile_acts_only_on_what_is_still_allowed(staff, client):
    marketer = staff("Marketing")
    client.force_login(marketer)
    keep, merged, restricted, fine = ContactFactory.create_batch(4)
    url = reverse("admin:crm_contact_changelist")
    chosen = {
        "action": "bulk_set_relationship",
        ACTION_CHECKBOX_NAME: [merged.pk, restricted.pk, fine.pk],
    }

    form = client.post(url, chosen)
    # While the form is open, an officer restricts one and a colleague merges another away.
    Contact.objects.filter(pk=restricted.pk).update(is_restricted=True)
    merge_contacts(keep=keep, duplicate=merged, actor=marketer, channel="admin")
    done = client.post(
        url, {**chosen, "bulk_confirmed": "yes", "relationship": "customer"}, follow=True
    )

    assert "3 contacts" in form.content.decode()
    text = done.content.decode()
    assert "done for 1 of 3 contacts" in text
    assert "Skipped 2: 1 merged into another record; 1 processing restricted (art. 18)" in text
    assert Contact.objects.get(pk=fine.pk).relationship == "customer"
    assert Contact.objects.get(pk=restricted.pk).relationship != "customer"
    assert bulk_events("set_relationship").get().details["ids"] == [fine.pk]


def test_a_consent_given_offline_is_recorded_for_each_with_the_evidence_once(staff, newsletter):
    marketer = staff("Marketing")
    people = ContactFactory.create_batch(3)
    suppress(email=people[2].email, reason=Suppression.Reason.UNSUBSCRIBE)
    evidence = "Signed forms from the Utrecht fair, 3 March, filed in binder 7."

    action = start_bulk_action(
        kind="record_consent",
        contacts=Contact.objects.all(),
        params={
            "purpose": newsletter.code,
            "action": "grant",
            "channel": ConsentEvent.Channel.STAFF_PAPER,
            "wording": newsletter.consent_text,
            "evidence": evidence,
        },
        actor=marketer,
    )

    events = ConsentEvent.objects.filter(purpose=newsletter)
    assert sorted(events.values_list("contact_id", flat=True)) == [people[0].pk, people[1].pk]
    assert set(events.values_list("evidence", flat=True)) == {evidence}
    assert action.skipped == {"opted out of all contact": 1}
    assert sorted(bulk_events("record_consent").get().details["ids"]) == [
        people[0].pk,
        people[1].pk,
    ]


def test_an_officer_erases_the_selected_with_the_reason(staff):
    officer = staff("Privacy officer")
    people = ContactFactory.create_batch(2)
    # Tagged people too: their tags' links go with them.
    start_bulk_action(
        kind="add_tags", contacts=Contact.objects.all(), params={"tags": ["fair"]}, actor=officer
    )
    reason = "The client ended the contract and asked us to delete its list."

    start_bulk_action(
        kind="start_erasure",
        contacts=Contact.objects.all(),
        params={"reason": reason},
        actor=officer,
    )

    # The foreign keys hold now, not only at a commit this test never reaches.
    connection.check_constraints()
    assert not Contact.objects.filter(pk__in=[p.pk for p in people]).exists()
    assert not Contact.tags.through.objects.exists()
    assert ErasureCertificate.objects.count() == 2
    event = bulk_events("start_erasure").get()
    assert event.reason == reason and event.details["count"] == 2


def test_a_large_selection_runs_on_the_worker_and_a_rerun_changes_nothing(
    staff, client, monkeypatch
):
    monkeypatch.setattr(bulk, "RUN_NOW_LIMIT", 2)
    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    marketer = staff("Marketing")
    people = ContactFactory.create_batch(5)
    client.force_login(marketer)

    action = start_bulk_action(
        kind="add_tags", contacts=Contact.objects.all(), params={"tags": ["q3"]}, actor=marketer
    )
    waiting = client.get(reverse("admin:crm_contact_bulk_progress", args=[action.pk]))

    assert action.finished_at is None and action.done == 0
    assert OutboxTask.objects.filter(task="privacy.tasks.run_bulk_action").exists()
    assert "0 of 5" in waiting.content.decode()
    run_bulk_action(action_id=action.pk)
    run_bulk_action(action_id=action.pk)
    action.refresh_from_db()
    finished = client.get(reverse("admin:crm_contact_bulk_progress", args=[action.pk]))
    assert (action.done, action.acted) == (5, 5)
    assert all(p.tags.filter(name="q3").exists() for p in people)
    # One audit event per committed batch, each with its ids; all ids once.
    ids = [i for e in bulk_events("add_tags") for i in e.details["ids"]]
    assert sorted(ids) == sorted(p.pk for p in people)
    assert "done for 5 of 5 contacts" in finished.content.decode()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_large_selection_is_done_by_a_real_worker(staff, monkeypatch):
    monkeypatch.setattr(bulk, "RUN_NOW_LIMIT", 2)
    marketer = staff("Marketing")
    ContactFactory.create_batch(4)
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=30
    ):
        started = start_bulk_action(
            kind="set_relationship",
            contacts=Contact.objects.all(),
            params={"relationship": "partner_employee"},
            actor=marketer,
        )
        done = BulkAction.objects.filter(pk=started.pk, finished_at__isnull=False)
        action = wait_for(done.first)
    assert action.acted == 4
    assert set(Contact.objects.values_list("relationship", flat=True)) == {"partner_employee"}


def test_a_bulk_change_is_on_each_persons_timeline(staff):
    marketer, officer = staff("Marketing"), staff("Privacy officer")
    anna, piet = ContactFactory.create_batch(2)
    start_bulk_action(
        kind="add_tags", contacts=[anna.pk], params={"tags": ["fair"]}, actor=marketer
    )

    seen = contact_timeline(contact=anna, user=officer, kind="audit").entries
    unseen = contact_timeline(contact=piet, user=officer, kind="audit").entries

    assert [e.summary for e in seen if "at once" in e.summary] == [
        "by marketing · Admin · fields: tags · 1 contact(s) at once"
    ]
    assert not [e for e in unseen if "at once" in e.summary]


def test_the_owner_is_set_for_many_to_a_member_of_staff_only(staff):
    marketer = staff("Marketing")
    people = ContactFactory.create_batch(2)

    action = start_bulk_action(
        kind="set_owner",
        contacts=Contact.objects.all(),
        params={"owner": marketer.pk},
        actor=marketer,
    )

    assert action.acted == 2
    assert {Contact.objects.get(pk=p.pk).owner for p in people} == {marketer}
    assert bulk_events("set_owner").get().details["fields"] == ["owner"]


def test_contacts_join_and_leave_a_static_list_in_bulk(staff, client):
    marketer = staff("Marketing")
    fair = ContactList.objects.create(name="Fair 2026")
    people = ContactFactory.create_batch(3)
    client.force_login(marketer)
    url = reverse("admin:crm_contact_changelist")
    chosen = {"action": "bulk_add_to_list", ACTION_CHECKBOX_NAME: [p.pk for p in people]}

    done = client.post(
        url, {**chosen, "bulk_confirmed": "yes", "contact_list": fair.pk}, follow=True
    )
    start_bulk_action(
        kind="remove_from_list", contacts=[people[0].pk], params={"list": fair.pk}, actor=marketer
    )

    assert "done for 3 of 3 contacts" in done.content.decode()
    assert set(fair.contacts.all()) == {people[1], people[2]}
    assert bulk_events("add_to_list").get().details["count"] == 3
    lists = client.get(reverse("admin:crm_contactlist_changelist")).content.decode()
    assert "Fair 2026" in lists
