"""Breaches (art. 33-34): the 72-hour clock, the people affected, telling the authority and them."""

from datetime import datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from core.models import AuditEvent
from crm.models import Contact, Source
from privacy.accountability import breaches
from privacy.accountability.breaches import (
    add_affected_subjects,
    affected_by_addresses,
    affected_by_client,
    affected_by_company,
    affected_by_source,
    close_breach,
    deadline_status,
    mark_authority_notified,
    notify_subjects,
    record_breach,
    send_breach_notice_batch,
    subject_counts,
    update_breach,
)
from privacy.models import Breach, BreachSubject
from privacy.staff.roles import role_permissions
from privacy.tasks import mail_breach_notice
from tests.crm.factories import (
    ClientFactory,
    CompanyFactory,
    ContactFactory,
    ContactSourceFactory,
    SourceFactory,
)
from tests.waiting import wait_for


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen(monkeypatch) -> datetime:
    """Stop the clock at the current minute; return the frozen time."""
    now = timezone.now().replace(second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def a_breach(*, detected_at: datetime | None = None, **fields) -> Breach:
    """Record a breach the way the officer does, detected an hour ago unless told otherwise."""
    values = {
        "title": "Lost laptop with an export of the newsletter list",
        "description": "A laptop holding an unencrypted export of the newsletter list was stolen "
        "from an employee's car on 2 March.",
        "data_categories": "Names and e-mail addresses.",
        "likely_consequences": "You may receive phishing e-mails that use your name.",
        "measures": "We wiped the laptop remotely, reported the theft to the police and now "
        "encrypt every export.",
        "high_risk": True,
        **fields,
    }
    return record_breach(
        detected_at=detected_at or timezone.now() - timedelta(hours=1),
        actor=None,
        channel="admin",
        **values,
    )


def audit_of(breach: Breach) -> list[AuditEvent]:
    """Return the breach's audit events, oldest first."""
    return list(
        AuditEvent.objects.filter(object_type__model="breach", object_id=str(breach.pk)).order_by(
            "at", "id"
        )
    )


# The 72-hour clock --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_deadline_counts_down_and_turns_overdue_with_a_frozen_clock():
    detected = datetime(2030, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())
    breach = Breach(title="t", detected_at=detected)

    assert breach.authority_deadline == detected + timedelta(hours=72)
    assert deadline_status(breach, now=detected) == "72 h left"
    assert deadline_status(breach, now=detected + timedelta(hours=59, minutes=30)) == (
        "12 h 30 min left"
    )
    # Rounded down: 40 seconds short of a minute is not a minute left.
    assert deadline_status(breach, now=detected + timedelta(hours=71, seconds=40)) == "59 min left"
    assert deadline_status(breach, now=detected + timedelta(hours=77)) == "OVERDUE by 5 h"
    assert deadline_status(breach, now=detected + timedelta(hours=77, minutes=12)) == (
        "OVERDUE by 5 h 12 min"
    )

    breach.authority_notified_at = detected + timedelta(hours=30, minutes=5)
    assert deadline_status(breach, now=detected + timedelta(hours=80)) == (
        "told on 03 Mar 2030 15:05"
    )
    breach.authority_notified_at = detected + timedelta(hours=80)
    assert deadline_status(breach) == "told on 05 Mar 2030 17:00 (late)"


@pytest.mark.django_db
def test_the_breach_list_shows_time_left_overdue_and_told(admin_client, frozen):
    a_breach(title="Stolen laptop", detected_at=frozen - timedelta(hours=59, minutes=30))
    a_breach(title="Misdirected mailing", detected_at=frozen - timedelta(hours=77))
    told = a_breach(title="Open bucket", detected_at=frozen - timedelta(hours=10))
    mark_authority_notified(
        breach=told,
        at=frozen - timedelta(hours=2),
        reference="AP-2030-118",
        actor=None,
        channel="admin",
    )

    page = admin_client.get(reverse("admin:privacy_breach_changelist")).content.decode()

    assert "12 h 30 min left" in page
    assert "OVERDUE by 5 h" in page
    assert f"told on {timezone.localtime(frozen - timedelta(hours=2)):%d %b %Y %H:%M}" in page


@pytest.mark.django_db
def test_the_breach_list_reads_a_constant_number_of_queries(admin_client):
    url = reverse("admin:privacy_breach_changelist")
    a_breach()
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(5):
        breach = a_breach()
        BreachSubject.objects.create(breach=breach, contact=ContactFactory())
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)


# Recording and the audit trail ----------------------------------------------------------------


@pytest.mark.django_db
def test_recording_a_breach_in_the_admin_audits_it_and_points_at_the_next_steps(
    admin_client, admin_user
):
    detected = timezone.localtime() - timedelta(hours=3)
    response = admin_client.post(
        reverse("admin:privacy_breach_add"),
        {
            "title": "Misdirected invoice mailing",
            "detected_at_0": detected.strftime("%Y-%m-%d"),
            "detected_at_1": detected.strftime("%H:%M:%S"),
            "description": "Invoices were mailed to the wrong customers.",
            "data_categories": "Names, addresses, invoice amounts.",
            "likely_consequences": "",
            "measures": "",
        },
        follow=True,
    )

    breach = Breach.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "admin:privacy_breach_change", args=[breach.pk]
    )
    assert "Tell the authority by" in response.content.decode()
    (created,) = audit_of(breach)
    assert (created.action, created.actor, created.channel) == ("created", admin_user, "admin")
    assert created.details == {"high_risk": False}


@pytest.mark.django_db
def test_a_detection_time_in_the_future_is_refused():
    with pytest.raises(ValidationError, match="in the future"):
        a_breach(detected_at=timezone.now() + timedelta(hours=1))
    assert not Breach.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_editing_the_description_audits_the_field_names_only():
    breach = a_breach()
    update_breach(breach=breach, actor=None, channel="admin", measures="Passwords were reset.")

    changed = audit_of(breach)[-1]
    assert changed.details == {"fields": ["measures"]}
    breach.refresh_from_db()
    assert breach.measures == "Passwords were reset."


# Finding the people affected ------------------------------------------------------------------


@pytest.mark.django_db
def test_people_are_added_by_source_client_and_company_once_each_and_audited():
    breach = a_breach()
    directory = SourceFactory(kind=Source.Kind.BUSINESS_DIRECTORY, name="Benelux directory")
    from_directory = [ContactSourceFactory(source=directory).contact for _ in range(3)]
    acme = ClientFactory(name="Acme Retail")
    acme_list = SourceFactory(kind=Source.Kind.CLIENT_LIST, name="Acme spring list", client=acme)
    from_acme = [ContactSourceFactory(source=acme_list).contact for _ in range(2)]
    # Also from the directory: counted once.
    ContactSourceFactory(contact=from_acme[0], source=directory)
    company = CompanyFactory(name="Jansen Bouw")
    at_company = [ContactFactory(company=company) for _ in range(2)]
    ContactSourceFactory()  # someone else entirely

    assert set(affected_by_source(source=directory)) == {*from_directory, from_acme[0]}
    assert set(affected_by_client(client=acme)) == set(from_acme)
    assert set(affected_by_company(company=company)) == set(at_company)

    by_source = add_affected_subjects(
        breach=breach,
        contacts=affected_by_source(source=directory),
        actor=None,
        channel="admin",
        selection={"selected_by": "source", "source_id": directory.pk},
    )
    by_client = add_affected_subjects(
        breach=breach, contacts=affected_by_client(client=acme), actor=None, channel="admin"
    )
    by_company = add_affected_subjects(
        breach=breach,
        contacts=affected_by_company(company=company),
        actor=None,
        channel="admin",
    )

    assert (by_source, by_client, by_company) == (4, 1, 2)
    assert set(breach.affected.all()) == {*from_directory, *from_acme, *at_company}
    added = [e.details for e in audit_of(breach)[1:]]
    assert added == [
        {"affected_added": 4, "selected_by": "source", "source_id": directory.pk},
        {"affected_added": 1},
        {"affected_added": 2},
    ]


@pytest.mark.django_db
def test_a_pasted_list_matches_normalised_addresses_and_counts_unknown_ones_without_storing_them():
    breach = a_breach()
    known = ContactFactory(email="bram.smit@example.org")
    other = ContactFactory(email="lotte.de.vries@example.net")
    ContactFactory(email="not.listed@example.org")

    match = affected_by_addresses(
        addresses=[
            " Bram.Smit@Example.ORG",
            "lotte.de.vries@example.net",
            "stranger@example.org",
            "nobody@example.net",
            "not-an-address",
            "",
        ]
    )
    add_affected_subjects(breach=breach, contacts=match.contacts, actor=None, channel="admin")

    assert (match.unknown, match.invalid) == (2, 1)
    assert set(breach.affected.all()) == {known, other}
    assert not Contact.objects.filter(email__in=["stranger@example.org", "nobody@example.net"])


@pytest.mark.django_db
def test_the_admin_adds_people_from_pasted_addresses_and_keeps_no_unknown_address(admin_client):
    breach = a_breach()
    known = ContactFactory(email="sanne.mulder@example.org")
    already = ContactFactory(email="daan.visser@example.org")
    BreachSubject.objects.create(breach=breach, contact=already)

    response = admin_client.post(
        reverse("admin:privacy_breach_affected", args=[breach.pk]),
        {"addresses": "Sanne.Mulder@example.org, daan.visser@example.org\nghost@example.net"},
        follow=True,
    )

    page = response.content.decode()
    assert "1 people added as affected (1 of those found already were)" in page
    assert "1 address(es) matched no contact" in page
    assert set(breach.affected.all()) == {known, already}
    event = audit_of(breach)[-1]
    assert event.details == {
        "affected_added": 1,
        "selected_by": "addresses",
        "addresses_unknown": 1,
        "addresses_invalid": 0,
    }
    stored = [str(e.details) + e.reason for e in AuditEvent.objects.all()]
    assert not [text for text in stored if "ghost" in text or "sanne" in text.lower()]


@pytest.mark.django_db
def test_the_admin_add_form_wants_exactly_one_way_of_selecting(admin_client):
    breach = a_breach()
    source = SourceFactory()
    client = ClientFactory()
    url = reverse("admin:privacy_breach_affected", args=[breach.pk])

    neither = admin_client.post(url, {})
    both = admin_client.post(url, {"source": source.pk, "client": client.pk})

    for response in (neither, both):
        assert response.status_code == 200
        assert "Choose exactly one" in response.content.decode()
    assert len(audit_of(breach)) == 1


@pytest.mark.django_db
def test_the_admin_adds_the_people_of_one_source(admin_client):
    breach = a_breach()
    fair = SourceFactory(kind=Source.Kind.EVENT, name="Trade fair 2030")
    visitors = {ContactSourceFactory(source=fair).contact for _ in range(3)}

    admin_client.post(
        reverse("admin:privacy_breach_affected", args=[breach.pk]), {"source": fair.pk}
    )

    assert set(breach.affected.all()) == visitors
    assert audit_of(breach)[-1].details["source_id"] == fair.pk


# Telling the authority ------------------------------------------------------------------------


@pytest.mark.django_db
def test_telling_the_authority_within_72_hours_is_recorded_and_audited(admin_user):
    breach = a_breach(detected_at=timezone.now() - timedelta(hours=30))
    told_at = timezone.now() - timedelta(hours=1)

    mark_authority_notified(
        breach=breach, at=told_at, reference="AP-2030-0042", actor=admin_user, channel="admin"
    )

    breach.refresh_from_db()
    assert (breach.authority_notified_at, breach.authority_reference) == (told_at, "AP-2030-0042")
    event = audit_of(breach)[-1]
    assert event.actor == admin_user
    assert event.details == {
        "authority_notified": True,
        "late": False,
        "fields": ["authority_notified_at", "authority_reference", "delay_reason"],
    }


@pytest.mark.django_db
def test_after_72_hours_a_delay_reason_is_required_and_nothing_changes_without_it():
    breach = a_breach(detected_at=timezone.now() - timedelta(hours=100))
    late = timezone.now() - timedelta(hours=2)

    with pytest.raises(ValidationError) as refused:
        mark_authority_notified(breach=breach, at=late, reference="AP-1", actor=None, channel="x")

    assert list(refused.value.message_dict) == ["delay_reason"]
    breach.refresh_from_db()
    assert (breach.authority_notified_at, breach.authority_reference) == (None, "")
    assert len(audit_of(breach)) == 1

    mark_authority_notified(
        breach=breach,
        at=late,
        reference="AP-1",
        delay_reason="The scale of the leak was only known after the forensic report.",
        actor=None,
        channel="admin",
    )
    breach.refresh_from_db()
    assert breach.delay_reason.startswith("The scale of the leak")
    assert audit_of(breach)[-1].details["late"] is True
    assert deadline_status(breach).endswith("(late)")


@pytest.mark.django_db
def test_the_authority_form_shows_the_delay_reason_error_next_to_its_field(admin_client):
    breach = a_breach(detected_at=timezone.now() - timedelta(hours=90))
    told = timezone.localtime() - timedelta(hours=1)
    url = reverse("admin:privacy_breach_authority", args=[breach.pk])

    refused = admin_client.post(
        url, {"at_0": told.strftime("%Y-%m-%d"), "at_1": told.strftime("%H:%M:%S")}
    )
    accepted = admin_client.post(
        url,
        {
            "at_0": told.strftime("%Y-%m-%d"),
            "at_1": told.strftime("%H:%M:%S"),
            "reference": "AP-77",
            "delay_reason": "The breach was reported to us by a partner three days late.",
        },
    )

    assert "give the reasons for the delay" in refused.content.decode()
    assert accepted.status_code == 302
    breach.refresh_from_db()
    assert breach.authority_reference == "AP-77"


@pytest.mark.django_db
def test_the_authority_cannot_be_told_twice_before_detection_or_in_the_future():
    breach = a_breach(detected_at=timezone.now() - timedelta(hours=5))
    with pytest.raises(ValidationError, match="before detection"):
        mark_authority_notified(
            breach=breach,
            at=breach.detected_at - timedelta(1),
            reference="",
            actor=None,
            channel="admin",
        )
    with pytest.raises(ValidationError, match="future"):
        mark_authority_notified(
            breach=breach,
            at=timezone.now() + timedelta(hours=1),
            reference="",
            actor=None,
            channel="admin",
        )
    mark_authority_notified(breach=breach, at=timezone.now(), reference="", actor=None, channel="a")
    with pytest.raises(ValidationError, match="already told"):
        mark_authority_notified(
            breach=breach, at=timezone.now(), reference="", actor=None, channel="a"
        )


# Telling the people ---------------------------------------------------------------------------


def affected_people(breach: Breach) -> tuple[list[Contact], list[Contact]]:
    """Affect five people: three with a usable address, one without, one whose address bounced."""
    reachable = [
        ContactFactory(first_name="Eva", email="eva.peters@example.org", language="en"),
        ContactFactory(first_name="Lucas", email="lucas.hendriks@example.net", is_restricted=True),
        ContactFactory(
            first_name="Fenna",
            email="fenna.kok@example.org",
            email_status=Contact.EmailStatus.COMPLAINED,
        ),
    ]
    unreachable = [
        ContactFactory(first_name="Tim", email=None),
        ContactFactory(first_name="Roos", email_status=Contact.EmailStatus.BOUNCED),
    ]
    add_affected_subjects(
        breach=breach,
        contacts=Contact.objects.filter(pk__in=[c.pk for c in reachable + unreachable]),
        actor=None,
        channel="admin",
    )
    return reachable, unreachable


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_people_are_mailed_once_each_through_the_worker_with_only_their_own_data():
    breach = a_breach()
    reachable, unreachable = affected_people(breach)
    bystander = ContactFactory(email="not.affected@example.org")
    batches: list[object] = []

    def finished(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == mail_breach_notice.name:
            batches.append(retval)

    task_postrun.connect(finished, weak=False)
    try:
        # Queued before the worker starts (see tests/privacy/test_notices.py for why).
        assert notify_subjects(breach=breach, actor=None, channel="admin") == 5
        with start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            queues=["maintenance"],
            shutdown_timeout=30,
        ):
            wait_for(lambda: 0 in batches or any(not isinstance(b, int) for b in batches))
    finally:
        task_postrun.disconnect(finished)

    assert batches == [5, 0]
    addresses = [c.email for c in reachable]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(addresses)
    everyone = [c.email for c in reachable + unreachable if c.email] + [bystander.email]
    for message, person in ((m, Contact.objects.get(email=m.to[0])) for m in mail.outbox):
        assert message.to == [person.email]
        assert (message.cc, message.bcc) == ([], [])
        assert message.subject == "Important: an incident concerning your personal data"
        assert message.body.startswith(f"Hello {person.first_name},")
        for other in everyone:
            if other != person.email:
                assert other not in message.body
        for text in (
            "stolen from an employee's car",
            "Names and e-mail addresses.",
            "phishing e-mails",
            "wiped the laptop",
            "crm@example.org",
            f"{settings.SITE_URL}/privacy/requests/new/",
        ):
            assert text in message.body
        assert "&#x27;" not in message.body
    assert subject_counts(breach) == breaches.SubjectCounts(affected=5, told=3, failed=2, waiting=0)
    told = BreachSubject.objects.filter(breach=breach, notified_at__isnull=False)
    assert {s.contact.email for s in told} == set(addresses)
    assert set(BreachSubject.objects.filter(failed=True).values_list("contact", flat=True)) == {
        c.pk for c in unreachable
    }
    assert audit_of(breach)[-1].details == {"subjects_mailed": 3, "subjects_unreachable": 2}

    # Calling again mails nobody.
    with pytest.raises(ValidationError, match="Nobody is waiting"):
        notify_subjects(breach=breach, actor=None, channel="admin")
    assert send_breach_notice_batch(breach_id=breach.pk) == 0
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_notifying_queues_the_task_on_commit_and_audits(
    admin_user, django_capture_on_commit_callbacks
):
    breach = a_breach()
    affected_people(breach)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        waiting = notify_subjects(breach=breach, actor=admin_user, channel="admin")

    assert waiting == 5
    assert len(queued) == 1
    assert mail.outbox == []
    event = audit_of(breach)[-1]
    assert (event.actor, event.details) == (admin_user, {"subjects_notification_queued": 5})


@pytest.mark.django_db
def test_a_failed_send_is_marked_failed_and_never_retried(monkeypatch):
    breach = a_breach()
    reachable, _ = affected_people(breach)
    real_send = breaches.EmailMessage.send

    def send(message, *args, **kwargs):
        if message.to == [reachable[0].email]:
            raise ConnectionRefusedError("SMTP server down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(breaches.EmailMessage, "send", send)

    assert send_breach_notice_batch(breach_id=breach.pk) == 5
    assert send_breach_notice_batch(breach_id=breach.pk) == 0

    failed = BreachSubject.objects.get(breach=breach, contact=reachable[0])
    assert (failed.failed, failed.notified_at) == (True, None)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in reachable[1:])
    assert audit_of(breach)[-1].details == {"subjects_mail_failed": 1}
    assert subject_counts(breach).failed == 3


@pytest.mark.django_db
def test_the_people_are_not_told_before_the_consequences_and_measures_are_written():
    breach = a_breach(likely_consequences="", measures=" ")
    affected_people(breach)

    with pytest.raises(ValidationError) as refused:
        notify_subjects(breach=breach, actor=None, channel="admin")

    assert set(refused.value.message_dict) == {"likely_consequences", "measures"}
    assert len(audit_of(breach)) == 2


@pytest.mark.django_db
def test_the_confirmation_page_shows_the_email_and_the_count_before_anything_is_sent(
    admin_client, django_capture_on_commit_callbacks
):
    breach = a_breach()
    affected_people(breach)
    url = reverse("admin:privacy_breach_notify", args=[breach.pk])

    page = admin_client.get(url).content.decode()

    assert "Yes, send it to 5 people" in page
    assert "stolen from an employee&#x27;s car" in page
    assert "eva.peters@example.org" not in page
    assert BreachSubject.objects.filter(notified_at__isnull=False).count() == 0

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(url)
    assert response.status_code == 302
    assert len(queued) == 1
    # What the queued task runs on the worker (the real worker has a test of its own).
    send_breach_notice_batch(breach_id=breach.pk)
    assert len(mail.outbox) == 3


# Closing --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_closing_needs_a_reason_when_the_authority_was_not_told(admin_user):
    breach = a_breach(high_risk=False)

    with pytest.raises(ValidationError) as refused:
        close_breach(breach=breach, actor=admin_user, channel="admin")
    assert list(refused.value.message_dict) == ["reason"]

    close_breach(
        breach=breach,
        actor=admin_user,
        channel="admin",
        reason="Encrypted backup tape; the key was not lost: unlikely to result in a risk.",
    )
    breach.refresh_from_db()
    assert breach.closed_at is not None
    event = audit_of(breach)[-1]
    assert event.reason.startswith("Encrypted backup tape")
    assert event.details == {"closed": True, "authority_notified": False, "fields": ["closed_at"]}
    assert deadline_status(breach) == "closed without telling the authority"


@pytest.mark.django_db
def test_a_high_risk_breach_is_not_closed_while_people_wait_and_a_closed_one_is_final(
    admin_client,
):
    breach = a_breach(detected_at=timezone.now() - timedelta(hours=2))
    affected_people(breach)
    mark_authority_notified(breach=breach, at=timezone.now(), reference="", actor=None, channel="a")

    with pytest.raises(ValidationError, match="5 affected people have not been told"):
        close_breach(breach=breach, actor=None, channel="admin")

    send_breach_notice_batch(breach_id=breach.pk)
    close_breach(breach=breach, actor=None, channel="admin")
    events = len(audit_of(breach))

    for step in (
        lambda: update_breach(breach=breach, actor=None, channel="admin", title="Other"),
        lambda: add_affected_subjects(
            breach=breach, contacts=Contact.objects.all(), actor=None, channel="admin"
        ),
        lambda: notify_subjects(breach=breach, actor=None, channel="admin"),
        lambda: close_breach(breach=breach, actor=None, channel="admin", reason="again"),
    ):
        with pytest.raises(ValidationError, match="was closed on"):
            step()
    assert len(audit_of(breach)) == events

    page = admin_client.get(reverse("admin:privacy_breach_change", args=[breach.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Notify the people" not in html
    assert 'name="title"' not in html
    assert (
        admin_client.post(reverse("admin:privacy_breach_delete", args=[breach.pk])).status_code
        == 403
    )


@pytest.mark.django_db
def test_the_detail_page_shows_the_deadline_the_counts_and_the_buttons(admin_client, frozen):
    breach = a_breach(detected_at=frozen - timedelta(hours=60))
    affected_people(breach)

    html = admin_client.get(
        reverse("admin:privacy_breach_change", args=[breach.pk])
    ).content.decode()

    assert "12 h left" in html
    assert "5 affected: 0 told, 0 could not be told" in html
    for button in ("Add affected people", "Authority notified", "Notify the people", "Close"):
        assert button in html


# Who may do it --------------------------------------------------------------------------------


def staff_with_role(role: str, client):
    """Log in a staff member holding exactly the role's permissions; return the test client."""
    user = User.objects.create_user(role.lower().replace(" ", "."), is_staff=True)
    for label in role_permissions(role):
        app_label, codename = label.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_privacy_officer_adds_people_by_company_and_marketing_may_not_touch_breaches(client):
    breach = a_breach()
    company = CompanyFactory(name="Visser Logistiek")
    staff = {ContactFactory(company=company) for _ in range(2)}
    officer = staff_with_role("Privacy officer", client)

    found = officer.get(
        "/admin/autocomplete/",
        {"app_label": "crm", "model_name": "contact", "field_name": "company", "term": "Visser"},
    )
    assert [r["id"] for r in found.json()["results"]] == [str(company.pk)]
    officer.post(
        reverse("admin:privacy_breach_affected", args=[breach.pk]), {"company": company.pk}
    )
    assert set(breach.affected.all()) == staff

    marketing = staff_with_role("Marketing", client)
    for step in ("affected", "authority", "notify", "close"):
        url = reverse(f"admin:privacy_breach_{step}", args=[breach.pk])
        assert marketing.get(url).status_code == 403
        assert marketing.post(url, {"company": company.pk}).status_code == 403
    assert marketing.get(reverse("admin:privacy_breach_changelist")).status_code == 403
    assert len(audit_of(breach)) == 2
