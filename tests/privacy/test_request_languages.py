"""Requesters are written to in their language: the contact's, else the one they used with us."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.models import SubjectRequest
from privacy.requests.subject_requests import (
    act_on_request,
    complete_request,
    send_verification_mail,
)
from tests.crm.factories import ContactFactory
from tests.privacy.request_steps import (
    NEW_REQUEST_URL,
    isolate,
    mails_to,
    request_of,
    verification_link,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def ask(client, kind: str, email: str, *, accept_language: str) -> None:
    """Send the public request form from a browser that prefers `accept_language`."""
    response = client.post(
        NEW_REQUEST_URL, {"kind": kind, "email": email}, HTTP_ACCEPT_LANGUAGE=accept_language
    )
    assert response.status_code == 302


def test_an_unknown_address_gets_the_verification_and_the_answer_in_the_forms_language(
    client, django_capture_on_commit_callbacks
):
    ask(client, "access", "mihai.stan@example.org", accept_language="ro-RO,ro;q=0.9")
    subject_request = request_of("mihai.stan@example.org")
    assert subject_request.language == "ro"

    page = client.post(verification_link(subject_request))
    with django_capture_on_commit_callbacks(execute=True):
        act_on_request(request_id=subject_request.pk)

    verify, answer = mails_to("mihai.stan@example.org")
    assert verify.subject == f"Cererea dumneavoastră privind datele personale #{subject_request.pk}"
    assert "Am primit o cerere privind datele cu caracter personal" in verify.body
    assert "Vă mulțumim, cererea dumneavoastră este confirmată" in page.content.decode()
    assert "Nu deținem date cu caracter personal despre această adresă." in answer.body
    assert "Urmăriți cererea dumneavoastră:" in answer.body


def test_a_contacts_own_language_wins_over_the_forms(client, django_capture_on_commit_callbacks):
    ContactFactory(email="pieter.mol@example.org", language="nl")
    ask(client, "withdraw_consent", "pieter.mol@example.org", accept_language="ro")
    subject_request = request_of("pieter.mol@example.org")

    # Before verification the address is nobody's yet: the link goes out in the form's language.
    send_verification_mail(request_id=subject_request.pk)
    assert "Am primit o cerere" in mails_to("pieter.mol@example.org")[-1].body
    client.post(verification_link(subject_request))
    with django_capture_on_commit_callbacks(execute=True):
        act_on_request(request_id=subject_request.pk)

    answer = mails_to("pieter.mol@example.org")[-1]
    assert answer.subject == f"Uw privacyverzoek #{subject_request.pk}"
    assert "Elke toestemming die u ons had gegeven, is ingetrokken." in answer.body


def test_a_letter_logged_by_staff_is_answered_in_the_language_it_was_written_in(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    received = timezone.localtime() - timedelta(days=2)
    admin_client.post(
        reverse("admin:privacy_subjectrequest_add"),
        {
            "kind": "rectification",
            "channel": "email",
            "email": "elena.dobre@example.org",
            "received_at_0": received.strftime("%Y-%m-%d"),
            "received_at_1": "09:00:00",
            "identity_check": "Replied from the address on file and confirmed by phone.",
            "language": "ro",
        },
    )
    subject_request = SubjectRequest.objects.get()
    assert subject_request.language == "ro"

    with django_capture_on_commit_callbacks(execute=True):
        complete_request(request=subject_request, actor=admin_user, result="Am corectat numele.")

    (answer,) = mail.outbox
    assert answer.body.startswith("Bună ziua,")
    assert "Am corectat numele." in answer.body
    assert "puteți depune o plângere la autoritatea de protecție a datelor" in answer.body
