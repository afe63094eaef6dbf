"""GDPR art. 19 end to end, with a real HTTP receiver on loopback and Django's mail backend.

The person's data went to two recipients: the web shop, by its webhook (it answered with its own
customer number), and the billing bureau, by a list (no webhook; it has a privacy contact). Each
rectification, erasure and restriction carried out on a request must reach both, be recorded on
the request, and name them in the answer when the person asked.
"""

import json
import zipfile

import pytest
from django.core import mail
from django.urls import reverse

from core.events import EventKind
from crm.contacts import update_contact
from crm.models import Contact
from integrations.endpoints import update_endpoint
from integrations.models import Delivery, RecipientNotice
from privacy.accountability.recipients import recipients_of, record_disclosure
from privacy.models import ErasureCertificate, RecipientSubject, SubjectRequest
from privacy.requests.exports import export_subject
from privacy.requests.subject_requests import (
    approve_erasure,
    complete_request,
    restrict_processing,
)
from tests.crm.factories import ContactFactory
from tests.integrations.receiver import verify
from tests.integrations.steps import retry_due, run_worker, time_passes
from tests.privacy.request_steps import SubjectRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(shop_endpoint, receiver, billing, admin_user) -> Contact:
    """A contact the shop heard of by webhook and the billing bureau received in a list."""
    receiver.answer = {"reference": "shop-customer-1042"}
    contact = ContactFactory(first_name="Marieke", last_name="Verhoeven", phone="+31612345678")
    update_contact(contact=contact, actor=admin_user, channel="admin", job_title="Buyer")
    run_worker()
    record_disclosure(
        recipient=billing,
        kind="list",
        description="Name and postal address for dunning",
        people={contact.pk: "BB-778"},
        actor=admin_user,
        channel="admin",
    )
    receiver.received.clear()
    receiver.answer = None
    return contact


def request_for(contact: Contact, kind: str, **fields) -> SubjectRequest:
    return SubjectRequestFactory(kind=kind, email=contact.email, contact=contact, **fields)


def test_the_recipients_of_a_person_are_recorded_with_their_own_references(person, shop, billing):
    assert recipients_of(person.pk) == [
        {"recipient": shop.pk, "reference": "shop-customer-1042"},
        {"recipient": billing.pk, "reference": "BB-778"},
    ]


def test_an_erasure_reaches_the_receiver_once_signed_through_two_failures(
    person, receiver, shop_endpoint, admin_user
):
    endpoint, secret = shop_endpoint
    update_endpoint(
        endpoint=endpoint, actor=admin_user, channel="admin", event_kinds=["contact.erased"]
    )
    address, phone = person.email, person.phone
    receiver.script = [500, 503]
    erasure = request_for(person, SubjectRequest.Kind.ERASURE)

    approve_erasure(request=erasure, actor=admin_user)
    run_worker()

    # The request is done at once, whatever the receiver answers.
    erasure.refresh_from_db()
    assert erasure.status == SubjectRequest.Status.COMPLETED
    delivery = Delivery.objects.get(kind=EventKind.CONTACT_ERASED)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 1, 500)
    time_passes(59)
    retry_due()
    assert len(receiver.received) == 1  # the first retry waits a minute
    time_passes(1)
    retry_due()
    time_passes(300)
    retry_due()
    time_passes(3600)
    retry_due()

    assert len(receiver.received) == 3
    events = [verify(secret, r.headers, r.body) for r in receiver.received]
    assert {e["id"] for e in events} == {str(delivery.event_id)}
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(delivery.event_id)}
    certificate = ErasureCertificate.objects.get(request=erasure)
    assert events[-1]["type"] == "contact.erased"
    assert events[-1]["data"]["email_hash"] == certificate.email_hash
    assert events[-1]["data"]["recipient_reference"] == "shop-customer-1042"
    assert events[-1]["data"]["request"] == erasure.pk
    for sent in receiver.received:
        text = sent.body.decode().lower()
        for trace in (address, phone, "marieke", "verhoeven", "bb-778"):
            assert trace.lower() not in text
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.payload) == ("delivered", 3, None)
    notice = RecipientNotice.objects.get(request=erasure, method="webhook")
    assert notice.status == RecipientNotice.Status.ACKNOWLEDGED


def test_a_restriction_reaches_every_recipient_and_is_recorded_on_the_request(
    person, receiver, shop_endpoint, shop, billing, admin_user
):
    _endpoint, secret = shop_endpoint
    restriction = request_for(person, SubjectRequest.Kind.RESTRICTION)

    restrict_processing(request=restriction, actor=admin_user)
    run_worker()

    events = [verify(secret, r.headers, r.body) for r in receiver.received]
    restricted = [e for e in events if e["type"] == "contact.restricted"]
    assert len(restricted) == 1
    assert restricted[0]["data"]["recipient_reference"] == "shop-customer-1042"
    notices = {n.recipient: n for n in restriction.recipient_notices.all()}
    assert set(notices) == {shop, billing}
    assert (notices[shop].method, notices[shop].status) == ("webhook", "acknowledged")
    assert (notices[billing].method, notices[billing].status) == ("email", "sent")
    assert notices[billing].sent_at is not None
    (letter,) = [m for m in mail.outbox if m.to == ["privacy@billing.example.net"]]
    assert notices[billing].reference_code in letter.subject
    assert "BB-778" in letter.body
    assert "Restrict the processing" in letter.body
    assert person.email not in letter.body and "Verhoeven" not in letter.body


def test_a_rectification_reaches_every_recipient_with_the_fields_corrected(
    person, receiver, shop_endpoint, shop, billing, admin_user
):
    _endpoint, secret = shop_endpoint
    rectification = request_for(person, SubjectRequest.Kind.RECTIFICATION)
    update_contact(contact=person, actor=admin_user, channel="admin", phone="+31687654321")
    run_worker()
    receiver.received.clear()

    complete_request(request=rectification, actor=admin_user, result="We corrected your phone.")
    run_worker()

    events = [verify(secret, r.headers, r.body) for r in receiver.received]
    (rectified,) = [e for e in events if e["type"] == "contact.rectified"]
    assert rectified["data"]["fields"] == ["phone"]
    assert "+31687654321" not in json.dumps(rectified)
    notices = {n.recipient: n for n in rectification.recipient_notices.all()}
    assert set(notices) == {shop, billing}
    assert notices[billing].fields == ["phone"]
    (letter,) = [m for m in mail.outbox if m.to == ["privacy@billing.example.net"]]
    assert "Fields rectified: phone" in letter.body
    assert "+31687654321" not in letter.body


def test_the_answer_names_the_recipients_when_the_person_asked(person, admin_user):
    asked = request_for(person, SubjectRequest.Kind.ERASURE, wants_recipients=True)

    approve_erasure(request=asked, actor=admin_user)

    asked.refresh_from_db()
    assert "Billing bureau, Web shop" in asked.result


def test_the_answer_does_not_name_them_unasked(person, admin_user):
    unasked = request_for(person, SubjectRequest.Kind.RESTRICTION)

    restrict_processing(request=unasked, actor=admin_user)

    unasked.refresh_from_db()
    assert "Web shop" not in unasked.result


def test_a_recipient_without_webhook_or_contact_waits_in_the_officers_queue(
    person, billing, admin_client, admin_user
):
    billing.privacy_contact = ""
    billing.save()
    restriction = request_for(person, SubjectRequest.Kind.RESTRICTION)

    restrict_processing(request=restriction, actor=admin_user)
    run_worker()

    waiting = restriction.recipient_notices.get(recipient=billing)
    assert (waiting.method, waiting.status) == ("none", "pending")
    assert not [m for m in mail.outbox if "art. 19" in m.subject]
    queue = admin_client.get(
        reverse("admin:privacy_subjectrequest_changelist"), {"recipients": "waiting"}
    )
    assert list(queue.context["cl"].result_list) == [restriction]
    assert queue.context["cl"].result_list[0].notices_waiting == 1
    page = admin_client.get(reverse("admin:privacy_subjectrequest_change", args=[restriction.pk]))
    assert "No webhook and no privacy contact" in page.content.decode()

    admin_client.post(
        reverse("admin:integrations_recipientnotice_changelist"),
        {"action": "acknowledge", "_selected_action": [waiting.pk]},
    )
    waiting.refresh_from_db()
    assert waiting.status == "acknowledged"
    assert waiting.acknowledged_by == admin_user
    queue = admin_client.get(
        reverse("admin:privacy_subjectrequest_changelist"), {"recipients": "waiting"}
    )
    assert list(queue.context["cl"].result_list) == []


def test_the_persons_export_lists_the_recipients_of_their_data(person, admin_user):
    export = export_subject(contact=person, requested_by=admin_user, channel="admin")

    with zipfile.ZipFile(export.file.path) as archive:
        data = json.loads(archive.read("data.json"))
        page = archive.read("index.html").decode()
    rows = data["tables"]["privacy.recipientsubject"]["rows"]
    assert sorted(row["recipient"] for row in rows) == ["Billing bureau", "Web shop"]
    assert "Billing bureau" in page and "Web shop" in page


def test_erasure_removes_the_record_of_recipients_after_telling_them(person, admin_user):
    approve_erasure(request=request_for(person, SubjectRequest.Kind.ERASURE), actor=admin_user)
    run_worker()

    assert not RecipientSubject.objects.filter(contact_id=person.pk).exists()
    assert RecipientNotice.objects.filter(change="contact.erased").count() == 2


def test_the_answer_names_them_in_the_persons_language(person, admin_user):
    Contact.objects.filter(pk=person.pk).update(language="nl")
    person.refresh_from_db()
    asked = request_for(person, SubjectRequest.Kind.RESTRICTION, wants_recipients=True)

    restrict_processing(request=asked, actor=admin_user)

    asked.refresh_from_db()
    assert "Wij hebben dit doorgegeven aan iedereen" in asked.result
    assert "Billing bureau, Web shop" in asked.result


def test_the_public_form_lets_the_person_ask_who_received_their_data(client):
    form = client.get("/privacy/requests/new/", HTTP_ACCEPT_LANGUAGE="ro").content.decode()
    client.post(
        "/privacy/requests/new/",
        {"kind": "erasure", "email": "ilse.de.boer@example.org", "wants_recipients": "on"},
    )

    assert "Spuneți-mi și cine a primit datele mele" in form
    assert SubjectRequest.objects.get().wants_recipients is True


def test_a_rectification_that_corrected_nothing_tells_no_recipient(person, receiver, admin_user):
    refused = request_for(person, SubjectRequest.Kind.RECTIFICATION)

    complete_request(request=refused, actor=admin_user, result="Your data was right.")
    run_worker()

    assert receiver.events("contact.rectified") == []
    assert not refused.recipient_notices.exists()
    assert not [m for m in mail.outbox if "art. 19" in m.subject]
