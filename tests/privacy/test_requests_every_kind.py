"""Every kind of request, from the public form through the mails to the outcome the person sees."""

import pytest
from django.urls import reverse

from crm.models import Contact, Suppression
from crm.suppression import email_hash, may_contact
from privacy.consent.ledger import consent_states
from privacy.models import SubjectExport, SubjectRequest
from privacy.requests.subject_requests import act_on_request
from tests.privacy.factories import ContactFactory, PurposeFactory, grant
from tests.privacy.pages import text
from tests.privacy.request_steps import (
    isolate,
    link_to,
    mails_to,
    request_of,
    submit,
    verification_link,
)

pytestmark = pytest.mark.django_db

EMAIL = "daan.smit@example.org"
# What the officer decides for the kinds that wait in the queue; the others need no decision.
DECISIONS = {
    "rectification": ("complete", "We corrected your job title to Head of Sales."),
    "erasure": ("approve_erasure", ""),
    "exclusion": ("approve_erasure", ""),
    "restriction": ("restrict", ""),
    "objection": ("uphold_objection", ""),
}
ANSWERS = {
    "access": "Your data is ready",
    "portability": "Your data is ready",
    "withdraw_consent": "Every consent you had given us is withdrawn.",
    "rectification": "We corrected your job title to Head of Sales.",
    "erasure": "Your data is erased",
    "exclusion": "Your data is erased",
    "restriction": "Your data is restricted",
    "objection": "will send you no marketing",
}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    isolate(settings, tmp_path)


def test_every_kind_on_the_form_has_an_answer_here():
    assert set(ANSWERS) == set(SubjectRequest.Kind.values)


@pytest.mark.parametrize("kind", SubjectRequest.Kind.values)
def test_every_kind_goes_from_the_form_through_the_mails_to_its_outcome(
    kind, client, admin_client, newsletter, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email=EMAIL, first_name="Daan", last_name="Smit")
    grant(contact, newsletter)
    # Art. 21 applies to our legitimate interest; consent is withdrawn instead of objected to.
    prospecting = PurposeFactory(code="b2b_prospecting", legal_basis="legitimate_interest")
    extra = {"purposes": [prospecting.pk]} if kind == "objection" else {}

    with django_capture_on_commit_callbacks() as queued:
        assert submit(client, kind, EMAIL, **extra).status_code == 302
    assert len(queued) == 1
    subject_request = request_of(EMAIL)
    path = verification_link(subject_request)  # what the worker mails
    with django_capture_on_commit_callbacks() as queued:
        assert client.post(path).status_code == 200
    assert len(queued) == 1
    with django_capture_on_commit_callbacks(execute=True):
        act_on_request(request_id=subject_request.pk)  # what the worker does next
    if kind in DECISIONS:
        subject_request.refresh_from_db()
        assert subject_request.status == SubjectRequest.Status.OPEN
        assert len(mails_to(EMAIL)) == 1  # the verification only: the officer decides first
        decision, answer = DECISIONS[kind]
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("admin:privacy_subjectrequest_decide", args=[subject_request.pk]),
                {"decision": decision, "text": answer},
            )
        assert response.status_code == 302

    subject_request.refresh_from_db()
    assert subject_request.status == SubjectRequest.Status.COMPLETED
    verification, outcome = mails_to(EMAIL)
    assert "/privacy/requests/verify/" in verification.body
    assert ANSWERS[kind] in outcome.body
    status_page = client.get(link_to(outcome.body, "/privacy/requests/status/"))
    assert "Completed" in text(status_page)
    assert ANSWERS[kind] in text(status_page)

    if kind in ("access", "portability"):
        assert SubjectExport.objects.get().request == subject_request
    if kind == "withdraw_consent":
        assert consent_states(contact) == {newsletter.code: "withdraw"}
    if kind == "objection":
        assert consent_states(contact)[prospecting.code] == "withdraw"
    if kind in ("erasure", "exclusion"):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert not may_contact(email=EMAIL)
    if kind == "restriction":
        contact.refresh_from_db()
        assert contact.is_restricted
    if kind == "objection":
        assert Suppression.objects.get(email_hash=email_hash(EMAIL)).reason == "objection"
