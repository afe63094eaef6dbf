"""Each staff role sees and can do exactly what docs/roles.md says, through the real admin and API.

The groups are the ones the roles migrations create. A transactional test elsewhere flushes every
table, groups included; the `roles` fixture then runs the migration's function again.
"""

import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from crm.models import Contact
from privacy.models import SubjectRequest
from privacy.staff.roles import ADMINISTRATOR, ROLES, role_permissions
from tests.crm.factories import ContactFactory
from tests.privacy.request_steps import SubjectRequestFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-made-up-passphrase-for-tests"
SUPERUSER = "superuser"
EVERYONE = [*ROLES, ADMINISTRATOR, SUPERUSER]

# What each role finds on the admin index: the table of docs/roles.md, as model labels.
INDEX = {
    "Marketing": {
        "campaigns.campaign",
        "campaigns.emaillayout",
        "campaigns.message",
        "campaigns.segment",
        "crm.client",
        "crm.company",
        "crm.contact",
        "crm.contactlist",
        "crm.importbatch",
        "crm.importrejection",
        "crm.interaction",
        "crm.source",
        "privacy.consentevent",
        "privacy.noticeversion",
        "privacy.purpose",
        "privacy.trackingbasis",
    },
    "Support": {
        "campaigns.campaign",
        "campaigns.message",
        "campaigns.segment",
        "crm.company",
        "crm.contact",
        "crm.contactlist",
        "crm.interaction",
        "privacy.consentevent",
        "privacy.purpose",
        "privacy.subjectrequest",
    },
    "Privacy officer": {
        "campaigns.campaign",
        "campaigns.message",
        "campaigns.segment",
        "crm.client",
        "crm.company",
        "crm.contact",
        "crm.contactlist",
        "crm.importbatch",
        "crm.importrejection",
        "crm.interaction",
        "crm.invoice",
        "crm.source",
        "core.auditevent",
        "privacy.breach",
        "privacy.consentevent",
        "privacy.disclosure",
        "privacy.erasurecertificate",
        "privacy.noticeversion",
        "privacy.processingactivity",
        "privacy.processor",
        "privacy.purpose",
        "privacy.retentionrule",
        "privacy.retentionrun",
        "privacy.subjectexport",
        "privacy.subjectrequest",
        "privacy.trackingbasis",
        "crm.suppression",
        "privacy.recipientbatch",
        "integrations.webhookendpoint",
        "integrations.delivery",
        "integrations.recipientnotice",
    },
}

OK, DENIED = 200, 403
# Screen -> status per role, in the order of EVERYONE.
SCREENS = {
    "request queue": (DENIED, OK, OK, OK, OK),
    "log a request": (DENIED, OK, OK, OK, OK),
    "decide on a request": (DENIED, DENIED, OK, OK, OK),
    "audit trail": (DENIED, DENIED, OK, OK, OK),
    "retention rules": (DENIED, DENIED, OK, OK, OK),
    "add a contact": (OK, DENIED, DENIED, OK, OK),
    "record a consent": (OK, DENIED, OK, OK, OK),
    "invoices": (DENIED, DENIED, OK, OK, OK),
    "users": (DENIED, DENIED, DENIED, OK, OK),
    # Removing a person is erasure, through a request: nobody deletes a contact, not even admins.
    "delete a contact": (DENIED, DENIED, DENIED, DENIED, DENIED),
}


def run_roles_migration() -> None:
    """Create the groups as the migration does (restoring what its function changes on apps)."""
    create_roles = importlib.import_module("privacy.migrations.0009_roles").create_roles
    modules = {config.label: config.models_module for config in apps.get_app_configs()}
    try:
        create_roles(apps, None)
    finally:
        # The function marks app configs as holding no models, which is right for the
        # migration's historical apps and wrong for the live registry.
        for config in apps.get_app_configs():
            config.models_module = modules[config.label]


@pytest.fixture
def roles(db) -> None:
    """Make sure the groups of the roles migration exist."""
    if Group.objects.filter(name__in=[*ROLES, ADMINISTRATOR]).count() < len(ROLES) + 1:
        run_roles_migration()


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(roles, django_user_model):
    """Return a factory of staff users in a role (or a superuser), with a made-up address."""

    def make(role: str):
        slug = role.lower().replace(" ", "-")
        user = django_user_model.objects.create_user(
            username=slug,
            email=f"{slug}@example.org",
            password=PASSWORD,
            is_staff=True,
            is_superuser=role == SUPERUSER,
        )
        if role != SUPERUSER:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def as_role(staff, client):
    """Return a factory of test clients logged in as a staff user of a role."""

    def login(role: str):
        client.force_login(staff(role))
        return client

    return login


# The groups hold the table ---------------------------------------------------------------------


def test_each_group_holds_exactly_the_permissions_of_the_table(roles):
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    for role in ROLES:
        held = {
            f"{app_label}.{codename}"
            for app_label, codename in Group.objects.get(name=role).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert role_permissions(role) <= existing, f"{role} names a permission that does not exist"
        assert held == role_permissions(role), role
    assert Group.objects.get(name=ADMINISTRATOR).permissions.count() == len(existing)


def test_only_the_privacy_officer_and_administrators_may_export_in_bulk(roles):
    for role in ROLES:
        exports = "crm.export_contacts" in role_permissions(role)
        assert exports == (role == "Privacy officer"), role


def test_only_the_privacy_officer_and_administrators_export_engagement(roles):
    for role in ROLES:
        exports = "campaigns.export_engagement" in role_permissions(role)
        assert exports == (role == "Privacy officer"), role


def test_marketing_has_nothing_of_requests_erasure_audit_or_billing(roles):
    marketing = role_permissions("Marketing")
    forbidden = (
        "privacy.view_subjectrequest",
        "privacy.view_erasurecertificate",
        "privacy.view_subjectexport",
        "privacy.view_auditevent",
        "privacy.view_retentionrule",
        "privacy.view_breach",
        "crm.view_invoice",
        "crm.delete_contact",
        "crm.export_contacts",
    )
    assert marketing.isdisjoint(forbidden)


# The admin, screen by screen ------------------------------------------------------------------


def index_models(page) -> set[str]:
    """Return the models the admin index lists, as labels like "crm.contact"."""
    return {
        model["model"]._meta.label_lower
        for app in page.context["app_list"]
        for model in app["models"]
    }


def registered() -> set[str]:
    return {model._meta.label_lower for model in admin.site._registry}


@pytest.mark.parametrize("role", list(INDEX))
def test_the_admin_index_lists_exactly_the_models_of_the_role(as_role, role):
    page = as_role(role).get(reverse("admin:index"))
    assert page.status_code == 200
    # Screens still being built (registers, breaches) count once the admin registers them.
    assert index_models(page) == INDEX[role] & registered()


@pytest.mark.parametrize("role", [ADMINISTRATOR, SUPERUSER])
def test_administrators_see_every_model_the_admin_has(as_role, role):
    page = as_role(role).get(reverse("admin:index"))
    assert index_models(page) == registered()


@pytest.fixture
def screens(db) -> dict[str, str]:
    contact = ContactFactory()
    subject_request = SubjectRequestFactory(kind=SubjectRequest.Kind.RECTIFICATION)
    return {
        "request queue": reverse("admin:privacy_subjectrequest_changelist"),
        "log a request": reverse("admin:privacy_subjectrequest_add"),
        "decide on a request": reverse(
            "admin:privacy_subjectrequest_decide", args=[subject_request.pk]
        ),
        "audit trail": reverse("admin:core_auditevent_changelist"),
        "retention rules": reverse("admin:privacy_retentionrule_changelist"),
        "add a contact": reverse("admin:crm_contact_add"),
        "record a consent": reverse("admin:crm_contact_record_consent", args=[contact.pk]),
        "invoices": reverse("admin:crm_invoice_changelist"),
        "users": reverse("admin:auth_user_changelist"),
        "delete a contact": reverse("admin:crm_contact_delete", args=[contact.pk]),
    }


@pytest.mark.parametrize("role", EVERYONE)
def test_each_role_opens_exactly_the_screens_of_the_table(as_role, screens, role):
    client = as_role(role)
    column = EVERYONE.index(role)
    answers = {name: client.get(url).status_code for name, url in screens.items()}
    assert answers == {name: statuses[column] for name, statuses in SCREENS.items()}


@pytest.mark.parametrize("role", ["Marketing", "Support"])
def test_a_decision_posted_by_a_role_that_may_not_decide_changes_nothing(as_role, role):
    subject_request = SubjectRequestFactory(kind=SubjectRequest.Kind.RECTIFICATION)
    url = reverse("admin:privacy_subjectrequest_decide", args=[subject_request.pk])
    client = as_role(role)
    before = AuditEvent.objects.count()
    page = client.post(url, {"decision": "complete", "text": "We corrected your name."})
    assert page.status_code == 403
    subject_request.refresh_from_db()
    assert subject_request.status == SubjectRequest.Status.OPEN
    assert subject_request.completed_at is None
    assert AuditEvent.objects.count() == before


def test_support_logs_a_request_received_by_email_but_cannot_decide_it(as_role):
    client = as_role("Support")
    page = client.post(
        reverse("admin:privacy_subjectrequest_add"),
        {
            "kind": "access",
            "channel": "email",
            "email": "maarten.visser@example.net",
            "received_at_0": "2020-01-06",
            "received_at_1": "09:30:00",
            "identity_check": "Wrote from the address we have on file; confirmed by phone.",
            "details": "Please send me a copy of my data.",
        },
    )
    assert page.status_code == 302
    logged = SubjectRequest.objects.get(email="maarten.visser@example.net")
    assert logged.status == SubjectRequest.Status.OPEN
    decide = reverse("admin:privacy_subjectrequest_decide", args=[logged.pk])
    assert client.get(decide).status_code == 403


def test_marketing_is_not_offered_deleting_contacts_in_bulk(as_role):
    ContactFactory()
    page = as_role("Marketing").get(reverse("admin:crm_contact_changelist"))
    assert page.status_code == 200
    assert "delete_selected" not in page.text


@pytest.mark.parametrize("role", EVERYONE)
def test_opening_a_contact_page_is_logged_with_the_reader(as_role, role):
    contact = ContactFactory()
    client = as_role(role)
    page = client.get(reverse("admin:crm_contact_change", args=[contact.pk]))
    assert page.status_code == 200
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.VIEWED, object_id=str(contact.pk))
    assert viewed.actor.username == role.lower().replace(" ", "-")
    assert viewed.channel == "admin"
    assert viewed.object_type.model_class() is Contact


@pytest.mark.parametrize(
    ("role", "may_lift"), [("Marketing", False), ("Support", False), ("Privacy officer", True)]
)
def test_only_the_privacy_officer_may_lift_a_restriction(as_role, role, may_lift):
    contact = ContactFactory(is_restricted=True)
    client = as_role(role)
    page = client.get(reverse("admin:crm_contact_change", args=[contact.pk]))
    assert ('name="is_restricted"' in page.text) is may_lift


def test_support_is_not_offered_a_decision_it_may_not_take(as_role):
    open_request = SubjectRequest.objects.create(
        kind="access",
        channel="email",
        email="lotte.maes@example.org",
        email_hash="x" * 64,
        status=SubjectRequest.Status.OPEN,
        due_at=timezone.now() + timedelta(days=20),
    )
    page = as_role("Support").get(
        reverse("admin:privacy_subjectrequest_change", args=[open_request.pk])
    )
    assert page.status_code == 200
    assert reverse("admin:privacy_subjectrequest_decide", args=[open_request.pk]) not in page.text


# The API honours the same permissions ---------------------------------------------------------


def new_contact(email: str) -> str:
    return json.dumps(
        {
            "first_name": "Sanne",
            "last_name": "de Boer",
            "email": email,
            "source": {"kind": "staff_entry", "name": "Phone call"},
        }
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("Marketing", 201), ("Support", 403), ("Privacy officer", 403), (ADMINISTRATOR, 201)],
)
def test_only_roles_that_add_contacts_create_them_through_the_api(as_role, role, status):
    address = f"sanne.{role.lower().replace(' ', '')}@example.org"
    answer = as_role(role).post(
        "/api/v1/contacts/", new_contact(address), content_type="application/json"
    )
    assert answer.status_code == status
    assert Contact.objects.filter(email=address).exists() == (status == 201)


@pytest.mark.parametrize("role", EVERYONE)
def test_every_role_reads_contacts_through_the_api_and_the_reading_is_logged(as_role, role):
    contact = ContactFactory()
    client = as_role(role)
    assert client.get("/api/v1/contacts/").status_code == 200
    assert client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 200
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.VIEWED, object_id=str(contact.pk))
    assert viewed.channel == "api"
    assert viewed.actor.username == role.lower().replace(" ", "-")


@pytest.mark.parametrize("role", EVERYONE)
def test_nobody_deletes_a_contact_through_the_api(as_role, role):
    contact = ContactFactory()
    answer = as_role(role).delete(f"/api/v1/contacts/{contact.pk}/")
    assert answer.status_code in (403, 405)
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize(("role", "status"), [("Marketing", 403), ("Support", 200)])
def test_requests_through_the_api_follow_the_request_permissions(as_role, role, status):
    subject_request = SubjectRequestFactory()
    answer = as_role(role).get(f"/api/v1/requests/{subject_request.pk}/")
    assert answer.status_code == status


# Logins ---------------------------------------------------------------------------------------


def log_in(client, username: str, password: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
    )


def every_stored_value() -> str:
    """Return everything the audit trail holds, as one string to search."""
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_login_is_logged_with_the_user(staff, client):
    user = staff("Support")
    assert log_in(client, "support", PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert event.actor == user
    assert event.object_id == str(user.pk)


def test_a_failed_login_on_a_known_account_names_the_account_only(staff, client):
    user = staff("Marketing")
    page = log_in(client, "marketing", "not-the-password")
    assert page.status_code == 200  # the form again
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.LOGIN_FAILED
    assert event.actor is None  # nobody acted: someone tried the account
    assert event.object_type.model_class() is type(user)
    assert event.object_id == str(user.pk)
    assert "not-the-password" not in every_stored_value()


def test_a_failed_login_with_an_unknown_name_keeps_no_trace_of_the_name(roles, client):
    page = log_in(client, "pieter.typo@example.net", "whatever-was-typed")
    assert page.status_code == 200
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.LOGIN_FAILED
    assert event.actor is None
    assert event.object_type is None
    assert event.object_id == ""
    assert event.details == {"known_account": False}
    stored = every_stored_value()
    assert "pieter.typo" not in stored
    assert "whatever-was-typed" not in stored
