"""Recipients as data: hand-overs recorded through the API, refused whole when one row is wrong."""

import pytest
from rest_framework.authtoken.models import Token

from core.models import AuditEvent
from privacy.accountability.recipients import recipient_names, recipients_of
from privacy.models import Processor, RecipientBatch, RecipientSubject
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing() -> Processor:
    return Processor.objects.create(
        name="Billing bureau", service="dunning", data_shared="name", location="BE"
    )


def post(client, user, recipient, body):
    token = Token.objects.create(user=user).key
    return client.post(
        f"/api/v1/recipients/{recipient.pk}/hand-overs/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )


def test_a_list_given_to_a_recipient_is_recorded_per_person(client, admin_user, billing):
    anna, bart = ContactFactory(), ContactFactory()

    answer = post(
        client,
        admin_user,
        billing,
        {
            "kind": "list",
            "description": "Name and postal address",
            "people": [{"contact": anna.pk, "reference": "BB-1"}, {"contact": bart.pk}],
        },
    )

    assert answer.status_code == 201 and answer.json()["people"] == 2
    assert recipients_of(anna.pk) == [{"recipient": billing.pk, "reference": "BB-1"}]
    assert recipient_names(bart.pk) == ["Billing bureau"]
    audit = AuditEvent.objects.get(object_id=str(answer.json()["id"]), action="exported")
    assert audit.details == {"recipient": billing.pk, "people": 2, "kind": "list"}


def test_a_hand_over_naming_an_unknown_contact_is_refused_whole(client, admin_user, billing):
    anna = ContactFactory()

    answer = post(
        client,
        admin_user,
        billing,
        {
            "kind": "export",
            "description": "Name",
            "people": [{"contact": anna.pk}, {"contact": 999}],
        },
    )

    assert answer.status_code == 400
    assert "999" in answer.json()["people"][0]
    assert not RecipientBatch.objects.exists() and not RecipientSubject.objects.exists()


def test_a_hand_over_without_people_or_description_is_refused(client, admin_user, billing):
    answer = post(client, admin_user, billing, {"kind": "gift", "description": "", "people": []})

    assert answer.status_code == 400
    assert {"kind", "description", "people"} <= set(answer.json())
    assert not RecipientBatch.objects.exists()
