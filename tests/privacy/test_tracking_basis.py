"""The legal basis of tracking per sender: the officer's audited setting, stated publicly as set."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.models import AuditEvent
from crm.models import ContactSource, Source
from privacy.accountability.indirect_notices import send_indirect_notices
from privacy.consent.tracking import set_tracking_basis
from privacy.models import ConsentEvent, ConsentState, TrackingBasis
from tests.crm.factories import ClientFactory, ContactFactory, ContactSourceFactory, SourceFactory

pytestmark = pytest.mark.django_db
Basis = TrackingBasis.Basis


def test_the_privacy_page_states_the_tracking_basis_the_officer_set(client, admin_user):
    page = client.get("/privacy/").content.decode()
    assert "E-mails we send for ourselves" in page
    assert "Opens and clicks of these e-mails are recorded only if you agreed to it" in page
    assert "only if you accept the cookie banner there" in page

    northwind = ClientFactory(name="Northwind Travel")
    set_tracking_basis(
        client=None,
        email_tracking=Basis.LEGITIMATE_INTEREST,
        web_activity=Basis.OFF,
        actor=admin_user,
    )
    set_tracking_basis(
        client=northwind, email_tracking=Basis.OFF, web_activity=Basis.OFF, actor=admin_user
    )
    page = client.get("/privacy/").content.decode()
    ours, theirs = page.split("E-mails we send for Northwind Travel")
    assert "on the basis of our legitimate interest in measuring them" in ours
    assert "Your visits to the website after a click are not recorded." in ours
    assert "Opens and clicks of these e-mails are not recorded." in theirs.split("any other")[0]
    assert "E-mails we send for any other client" in page


def test_the_privacy_page_speaks_the_visitors_language(client):
    page = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "E-mails die we voor onszelf versturen" in page


def test_the_officer_sets_the_basis_in_the_admin_and_it_is_audited(admin_client, admin_user):
    northwind = ClientFactory()
    response = admin_client.post(
        "/admin/privacy/trackingbasis/add/",
        {"client": northwind.pk, "email_tracking": "legitimate_interest", "web_activity": "off"},
    )
    assert response.status_code == 302
    basis = TrackingBasis.objects.get(client=northwind)
    assert (basis.email_tracking, basis.web_activity) == ("legitimate_interest", "off")
    response = admin_client.post(
        f"/admin/privacy/trackingbasis/{basis.pk}/change/",
        {"email_tracking": "consent", "web_activity": "off"},
    )
    assert response.status_code == 302
    audits = AuditEvent.objects.filter(
        object_id=str(basis.pk), actor=admin_user, action__in=["created", "changed"]
    ).order_by("at")
    assert [(a.action, a.details) for a in audits] == [
        ("created", {"fields": ["email_tracking", "web_activity"]}),
        ("changed", {"fields": ["email_tracking"]}),
    ]


def test_a_second_basis_for_the_same_sender_is_refused_with_a_message(admin_client, admin_user):
    set_tracking_basis(
        client=None, email_tracking=Basis.CONSENT, web_activity=Basis.CONSENT, actor=admin_user
    )
    response = admin_client.post(
        "/admin/privacy/trackingbasis/add/", {"email_tracking": "off", "web_activity": "off"}
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert TrackingBasis.objects.get().email_tracking == Basis.CONSENT


def test_the_art_14_notice_states_the_tracking_basis_of_us_and_the_supplying_client(
    settings, admin_user
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    northwind = ClientFactory(name="Northwind Travel")
    set_tracking_basis(
        client=northwind, email_tracking=Basis.OFF, web_activity=Basis.OFF, actor=admin_user
    )
    ContactSourceFactory(
        source=SourceFactory(kind=Source.Kind.CLIENT_LIST, client=northwind, name="Fair list"),
        contact=ContactFactory(),
        collected_at=timezone.now(),
    )
    send_indirect_notices()
    (notice,) = mail.outbox
    assert "E-mails we send for ourselves:" in notice.body
    assert "recorded only if you agreed to it (consent)" in notice.body
    assert "E-mails we send for Northwind Travel:" in notice.body
    assert "Opens and clicks of these e-mails are not recorded." in notice.body
    assert ContactSource.objects.get().informed_at is not None


@pytest.mark.django_db(transaction=True)
def test_old_tracking_flags_become_withdrawals_and_invent_no_consent():
    executor = MigrationExecutor(connection)
    before = [("crm", "0011_suppression")]
    after = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Contact = apps.get_model("crm", "Contact")
    # A transactional test earlier in the run may have emptied the seeded purposes.
    apps.get_model("privacy", "Purpose").objects.get_or_create(
        code="analytics", defaults={"name": "Analytics", "legal_basis": "consent"}
    )
    off = Contact.objects.create(email="off@example.org", tracking_allowed=False)
    on = Contact.objects.create(email="on@example.org", tracking_allowed=True)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    withdrawn = ConsentEvent.objects.get(contact_id=off.pk)
    assert (withdrawn.purpose.code, withdrawn.action) == ("analytics", "withdraw")
    assert withdrawn.channel == "preference_centre"
    assert ConsentState.objects.get(contact_id=off.pk).status == "withdraw"
    assert not ConsentEvent.objects.filter(contact_id=on.pk).exists(), "no consent is invented"

    # Going back restores the flag, and forward again records the withdrawal once.
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    assert apps.get_model("crm", "Contact").objects.get(pk=off.pk).tracking_allowed is False
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    assert ConsentEvent.objects.filter(contact_id=off.pk).count() == 1


def test_the_subscribe_form_offers_tracking_as_its_own_unticked_boxes(client):
    page = client.get("/subscribe/").content.decode()
    for code in ("analytics", "web_activity"):
        (box,) = re.findall(rf'<input[^>]*value="{code}"[^>]*>', page)
        assert 'type="checkbox"' in box and "checked" not in box
