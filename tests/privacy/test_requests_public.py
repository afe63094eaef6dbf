"""The public request form, its verification link, the one-month clock and the status page."""

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.utils import timezone

from core.dates import add_months
from core.models import AuditEvent
from privacy.links import status_url
from privacy.models import SubjectRequest
from privacy.requests.subject_requests import expire_unverified_requests
from privacy.tasks import act_on_request, send_request_verification
from tests.crm.factories import ContactFactory
from tests.privacy.pages import field_error, heading, site_path, tags, text
from tests.privacy.request_steps import (
    NEW_REQUEST_URL,
    SENT_URL,
    isolate,
    request_of,
    request_rows,
    stored,
    submit,
    submit_and_verify,
    verification_link,
)

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def test_the_form_offers_every_kind_of_request(client):
    page = client.get(NEW_REQUEST_URL)

    assert page.status_code == 200
    offered = {a["value"] for a in tags(page, "input") if a.get("name") == "kind"}
    assert offered == set(SubjectRequest.Kind.values)


@pytest.mark.parametrize("kind", SubjectRequest.Kind.values)
def test_every_kind_is_stored_unverified_and_its_mail_is_queued_for_the_worker(
    client, kind, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = submit(client, kind, " Sanne.Dekker@Example.org ", details="Thank you.")

    assert response.status_code == 302
    assert response.url == SENT_URL
    stored_request = SubjectRequest.objects.get()
    assert stored_request.kind == kind
    assert stored_request.status == SubjectRequest.Status.UNVERIFIED
    assert stored_request.email == "sanne.dekker@example.org"
    assert stored_request.channel == SubjectRequest.Channel.WEB_FORM
    assert stored_request.due_at is None
    assert len(queued) == 1
    assert mail.outbox == []  # the mail leaves from the worker, not from the web request
    assert heading(client.get(response.url)) == "Check your inbox"


def test_a_known_and_an_unknown_address_get_the_same_answer_and_both_are_stored(client):
    ContactFactory(email="pieter.smit@example.org")

    known = submit(client, "access", "pieter.smit@example.org")
    unknown = submit(client, "access", "nobody.here@example.net")

    assert (known.status_code, known.url, known.content) == (
        unknown.status_code,
        unknown.url,
        unknown.content,
    )
    assert client.get(known.url).content == client.get(unknown.url).content
    assert SubjectRequest.objects.filter(status="unverified").count() == 2
    # Nothing links the request to the contact before the address is proven.
    assert not SubjectRequest.objects.filter(contact__isnull=False).exists()


@pytest.mark.parametrize("address", ["", "sanne@", "not an address", "@example.org"])
def test_an_invalid_address_shows_the_error_next_to_the_field_and_stores_nothing(
    client, address, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = submit(client, "erasure", address)

    assert response.status_code == 200
    assert field_error(response, "email")
    assert not SubjectRequest.objects.exists()
    assert queued == []


def test_a_form_without_a_kind_shows_the_error_next_to_the_choices(client):
    response = client.post(NEW_REQUEST_URL, {"email": "sanne.dekker@example.org"})

    assert response.status_code == 200
    assert field_error(response, "kind")
    assert not SubjectRequest.objects.exists()


def test_too_many_requests_for_one_address_get_the_429_page_and_store_nothing(client, settings):
    settings.REQUEST_RATE_PER_EMAIL = 2
    for _ in range(2):
        assert submit(client, "access", "lars.mulder@example.org").status_code == 302

    refused = submit(client, "erasure", "Lars.Mulder@example.org")

    assert refused.status_code == 429
    assert heading(refused) == "Too many requests"
    assert SubjectRequest.objects.count() == 2
    # Another address from the same browser is not held back by this limit.
    assert submit(client, "access", "noor.dijkstra@example.org").status_code == 302


def test_too_many_requests_from_one_client_address_get_the_429_page(client, settings):
    settings.REQUEST_RATE_PER_IP = 2
    assert submit(client, "access", "a.one@example.org").status_code == 302
    assert submit(client, "access", "b.two@example.org").status_code == 302

    refused = submit(client, "access", "c.three@example.org")

    assert refused.status_code == 429
    assert SubjectRequest.objects.count() == 2


def test_the_verification_mail_carries_a_link_that_first_only_shows_a_button(client):
    submit(client, "access", "eva.kok@example.org")
    subject_request = request_of("eva.kok@example.org")

    path = verification_link(subject_request)

    (message,) = mail.outbox
    assert message.to == ["eva.kok@example.org"]
    assert "Access (a copy of my data)" in message.body
    before = stored()
    page = client.get(path)
    assert page.status_code == 200
    assert heading(page) == "Confirm your request"
    assert tags(page, "button")
    assert stored() == before


def test_posting_the_link_verifies_starts_the_clock_links_the_contact_and_queues_the_work(
    client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="eva.kok@example.org")
    submit(client, "access", "eva.kok@example.org")
    subject_request = request_of("eva.kok@example.org")
    path = verification_link(subject_request)

    with django_capture_on_commit_callbacks() as queued:
        page = client.post(path)

    assert page.status_code == 200
    assert heading(page) == "Thank you, your request is confirmed"
    subject_request.refresh_from_db()
    assert subject_request.status == SubjectRequest.Status.OPEN
    assert subject_request.verified_at is not None
    assert subject_request.due_at == add_months(subject_request.received_at, 1)
    assert subject_request.contact == contact
    assert subject_request.possibly_excessive is False
    due = timezone.localdate(subject_request.due_at)
    assert f"{due.day} {due:%B %Y}" in text(page)
    assert len(queued) == 1
    assert AuditEvent.objects.filter(
        object_id=str(subject_request.pk), details__verified=True
    ).exists()


def test_the_same_link_used_twice_does_not_work_the_second_time_and_changes_nothing(client):
    submit(client, "erasure", "eva.kok@example.org")
    path = verification_link(request_of("eva.kok@example.org"))
    assert client.post(path).status_code == 200
    before = stored()

    again = client.post(path)

    assert again.status_code == 400
    assert heading(again) == "This link does not work"
    assert "Nothing was changed" in text(again)
    assert stored() == before


def test_a_tampered_link_does_not_work_and_changes_nothing(client):
    submit(client, "erasure", "eva.kok@example.org")
    path = verification_link(request_of("eva.kok@example.org"))
    before = stored()

    for tampered in (path[:-6] + "abcde/", path.replace("verify/", "verify/x")):
        response = client.post(tampered)
        assert response.status_code == 400
        assert heading(response) == "This link does not work"
    assert stored() == before


def test_an_expired_link_says_so_and_changes_nothing(client, settings, monkeypatch):
    settings.REQUEST_VERIFY_MAX_AGE = 60
    submit(client, "access", "eva.kok@example.org")
    with monkeypatch.context() as past:
        # Sign the link as if the mail had gone out an hour ago.
        past.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(int(time.time()) - 3600),
        )
        path = verification_link(request_of("eva.kok@example.org"))
    before = stored()

    response = client.post(path)

    assert response.status_code == 400
    assert heading(response) == "This link has expired"
    assert "Nothing was changed" in text(response)
    # Starting again means a new request, not a subscription.
    assert 'href="/privacy/requests/new/"' in text(response)
    assert stored() == before


def test_links_mailed_before_the_signing_moved_to_privacy_links_keep_working(client):
    submit(client, "access", "eva.kok@example.org")
    subject_request = request_of("eva.kok@example.org")
    # Signed exactly as the request module did before `privacy.links` held the signing.
    status = signing.dumps(subject_request.pk, salt="privacy.request-status")
    verify = signing.dumps(
        [subject_request.pk, subject_request.verification_nonce], salt="privacy.request-verify"
    )

    assert client.get(f"/privacy/requests/status/{status}/").status_code == 200
    assert client.post(f"/privacy/requests/verify/{verify}/").status_code == 200
    subject_request.refresh_from_db()
    assert subject_request.status == SubjectRequest.Status.OPEN


def test_the_answer_is_due_one_month_after_receipt_or_the_last_day_of_a_shorter_month():
    noon = datetime(2027, 1, 31, 12, 0, tzinfo=AMSTERDAM)
    assert add_months(noon, 1).date() == date(2027, 2, 28)
    assert add_months(noon.replace(year=2028), 1).date() == date(2028, 2, 29)
    assert add_months(datetime(2027, 3, 15, 9, 0, tzinfo=AMSTERDAM), 1).date() == date(2027, 4, 15)
    assert add_months(datetime(2027, 11, 30, 9, 0, tzinfo=AMSTERDAM), 3).date() == date(2028, 2, 29)
    assert add_months(datetime(2027, 12, 31, 9, 0, tzinfo=AMSTERDAM), 1).date() == date(2028, 1, 31)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2027, 1, 31, 10, 0, tzinfo=AMSTERDAM), date(2027, 2, 28)),
        # Just after midnight in Amsterdam is still 30 January in UTC: the local date counts.
        (datetime(2027, 1, 31, 0, 30, tzinfo=AMSTERDAM), date(2027, 2, 28)),
        (datetime(2028, 1, 31, 0, 30, tzinfo=AMSTERDAM), date(2028, 2, 29)),
    ],
)
def test_a_request_received_on_31_january_falls_due_at_the_end_of_february(client, received, due):
    submit(client, "access", "ruben.brouwer@example.org")
    subject_request = request_of("ruben.brouwer@example.org")
    SubjectRequest.objects.filter(pk=subject_request.pk).update(received_at=received)

    page = client.post(verification_link(subject_request))

    subject_request.refresh_from_db()
    assert timezone.localdate(subject_request.due_at) == due
    assert f"{due.day} {due:%B %Y}" in text(page)


def test_unverified_requests_expire_after_the_configured_hours_and_their_link_dies(
    client, settings
):
    settings.REQUEST_UNVERIFIED_EXPIRE_HOURS = 48
    submit(client, "access", "old.request@example.org")
    submit(client, "access", "new.request@example.org")
    old, new = request_of("old.request@example.org"), request_of("new.request@example.org")
    old_link = verification_link(old)
    SubjectRequest.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(hours=49)
    )
    SubjectRequest.objects.filter(pk=new.pk).update(
        received_at=timezone.now() - timedelta(hours=47)
    )

    assert expire_unverified_requests() == 1

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == SubjectRequest.Status.EXPIRED
    assert new.status == SubjectRequest.Status.UNVERIFIED
    before = stored()
    assert client.post(old_link).status_code == 400
    assert stored() == before
    assert expire_unverified_requests() == 0


def test_the_same_request_again_within_the_window_is_flagged_a_different_kind_is_not(
    client, settings
):
    settings.REQUEST_REPEAT_WINDOW_DAYS = 90
    first = submit_and_verify(client, "access", "tim.vermeulen@example.org")
    repeated = submit_and_verify(client, "access", "Tim.Vermeulen@example.org")
    other_kind = submit_and_verify(client, "erasure", "tim.vermeulen@example.org")

    assert first.possibly_excessive is False
    assert repeated.possibly_excessive is True
    assert other_kind.possibly_excessive is False
    # The flag is a hint for the officer: the repeated request is open like any other.
    assert repeated.status == SubjectRequest.Status.OPEN


def test_a_request_older_than_the_window_does_not_flag_the_new_one(client, settings):
    settings.REQUEST_REPEAT_WINDOW_DAYS = 30
    first = submit_and_verify(client, "access", "tim.vermeulen@example.org")
    SubjectRequest.objects.filter(pk=first.pk).update(
        verified_at=timezone.now() - timedelta(days=31)
    )

    assert submit_and_verify(client, "access", "tim.vermeulen@example.org").possibly_excessive is (
        False
    )


def test_the_status_page_shows_where_the_request_stands_and_the_answer(client):
    submit(client, "withdraw_consent", "fleur.hoekstra@example.org")
    subject_request = request_of("fleur.hoekstra@example.org")
    page = client.get(site_path(status_url(subject_request)))
    assert page.status_code == 200
    assert "Waiting for e-mail verification" in text(page)

    client.post(verification_link(subject_request))
    act_on_request(subject_request.pk)

    page = client.get(site_path(status_url(subject_request)))
    assert heading(page) == f"Your request #{subject_request.pk}"
    assert "Completed" in text(page)
    assert "Every consent you had given us is withdrawn." in text(page)
    assert "fleur.hoekstra@example.org" not in text(page)


def test_a_tampered_status_link_does_not_work(client):
    submit(client, "access", "fleur.hoekstra@example.org")
    path = site_path(status_url(request_of("fleur.hoekstra@example.org")))
    before = request_rows()

    for tampered in (path[:-4] + "xyz/", "/privacy/requests/status/1/"):
        response = client.get(tampered)
        assert response.status_code == 400
        assert heading(response) == "This link does not work"
    assert request_rows() == before


def test_the_tasks_are_thin_callers_that_run_the_same_functions(client):
    submit(client, "access", "joost.kuipers@example.org")
    subject_request = request_of("joost.kuipers@example.org")

    send_request_verification(subject_request.pk)

    assert mail.outbox[-1].to == ["joost.kuipers@example.org"]
    assert "/privacy/requests/verify/" in mail.outbox[-1].body
