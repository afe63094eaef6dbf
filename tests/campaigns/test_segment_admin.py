"""The segment screen's rules: saved from the builder's JSON, refused whole, counted, previewed."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.models import Segment
from tests.campaigns.test_sending_admin import _login
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(client, django_user_model):
    _login(client, django_user_model, "Marketing")
    return client


OR_RULES = {
    "match": "any",
    "rules": [
        {"field": "language", "op": "in", "value": ["nl"]},
        {"field": "country", "op": "in", "value": ["RO"]},
    ],
}


def test_a_segment_with_an_or_group_is_saved_and_counted_with_its_first_rows(marketing):
    dutch = ContactFactory(language="nl", country="BE")
    romanian = ContactFactory(language="ro", country="RO")
    ContactFactory(language="en", country="GB")
    answer = marketing.post(
        reverse("admin:campaigns_segment_add"),
        {"name": "Dutch or Romanian", "rules": json.dumps(OR_RULES)},
    )
    assert answer.status_code == 302
    assert Segment.objects.get().rules == OR_RULES
    listed = marketing.get(reverse("admin:campaigns_segment_changelist")).content.decode()
    assert "Language is one of Nederlands OR Country is one of Romania" in listed

    counted = marketing.get(
        reverse("admin:campaigns_segment_count"), {"rules": json.dumps(OR_RULES)}
    )
    body = counted.json()
    assert body["text"] == "2 contacts"
    assert [row["id"] for row in body["preview"]] == [romanian.pk, dutch.pk]
    assert body["preview"][0]["url"] == reverse("admin:crm_contact_change", args=[romanian.pk])


def test_an_unknown_field_or_unfit_operator_is_refused_at_save_and_nothing_is_stored(marketing):
    rules = {
        "match": "all",
        "rules": [
            {"field": "shoe_size", "op": "in", "value": ["42"]},
            {"match": "any", "rules": [{"field": "created_at", "op": "contains", "value": "x"}]},
        ],
    }
    answer = marketing.post(
        reverse("admin:campaigns_segment_add"), {"name": "Broken", "rules": json.dumps(rules)}
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Condition 1: unknown field &#x27;shoe_size&#x27;." in page
    assert "Group 2, condition 1: the operator &#x27;contains&#x27; does not fit" in page
    assert not Segment.objects.exists()
    refused = marketing.get(reverse("admin:campaigns_segment_count"), {"rules": json.dumps(rules)})
    assert refused.status_code == 400
    assert "rules" in refused.json()["errors"]


def test_staff_who_may_not_see_contacts_get_the_count_without_rows(client, django_user_model):
    ContactFactory(language="nl")
    user = django_user_model.objects.create_user(username="counter", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.force_login(user)
    body = client.get(
        reverse("admin:campaigns_segment_count"), {"rules": json.dumps(OR_RULES)}
    ).json()
    assert body["count"] == 1
    assert "preview" not in body
    fields = client.get(reverse("admin:campaigns_segment_fields")).json()
    assert {"name": "language", "label": "Language", "kind": "choice"}.items() <= next(
        field for field in fields["fields"] if field["name"] == "language"
    ).items()
