"""The officer's decision as a function: what the admin's decision page calls."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from privacy.models import SubjectRequest
from privacy.requests.decisions import Decision, carry_out_decision, suggested_answer
from tests.privacy.factories import ContactFactory
from tests.privacy.request_steps import SubjectRequestFactory, stored

pytestmark = pytest.mark.django_db


def test_an_unknown_decision_is_refused_and_changes_nothing(django_capture_on_commit_callbacks):
    open_request = SubjectRequestFactory(kind=SubjectRequest.Kind.OBJECTION)
    before = stored()

    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        carry_out_decision(
            request=open_request, actor=None, decision="forget", months=None, text="Done."
        )

    assert stored() == before
    assert not mail.outbox


def test_a_decision_is_carried_out_by_the_request_function_that_mails_the_requester(
    django_capture_on_commit_callbacks,
):
    open_request = SubjectRequestFactory(kind=SubjectRequest.Kind.RECTIFICATION)

    with django_capture_on_commit_callbacks(execute=True):
        carry_out_decision(
            request=open_request,
            actor=None,
            decision=Decision.COMPLETE,
            months=None,
            text="We corrected your job title.",
        )

    open_request.refresh_from_db()
    assert open_request.status == SubjectRequest.Status.COMPLETED
    assert open_request.result == "We corrected your job title."
    (answer,) = mail.outbox
    assert answer.to == [open_request.email]


def test_only_a_rectification_of_a_known_contact_gets_a_suggested_answer():
    contact = ContactFactory()
    access = SubjectRequestFactory(kind=SubjectRequest.Kind.ACCESS, contact=contact)
    unknown = SubjectRequestFactory(kind=SubjectRequest.Kind.RECTIFICATION)
    untouched = SubjectRequestFactory(kind=SubjectRequest.Kind.RECTIFICATION, contact=contact)

    assert suggested_answer(request=access) == ""
    assert suggested_answer(request=unknown) == ""
    assert suggested_answer(request=untouched) == ""
