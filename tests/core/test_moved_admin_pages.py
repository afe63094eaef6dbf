"""The audit trail, the suppression list and the outbox moved apps; old addresses still work."""

import pytest

from core.audit import record_audit
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/privacy/auditevent/", "/admin/core/auditevent/"),
        ("/admin/privacy/suppression/", "/admin/crm/suppression/"),
        ("/admin/config/outboxtask/", "/admin/core/outboxtask/"),
    ],
)
def test_an_old_list_address_leads_to_the_list_where_it_is_now(admin_client, old, new):
    response = admin_client.get(f"{old}?o=1")
    assert response.status_code == 301
    assert response["Location"] == f"{new}?o=1"
    assert admin_client.get(response["Location"]).status_code == 200


def test_an_old_address_of_one_audit_event_opens_that_event(admin_client, admin_user):
    event = record_audit(
        actor=admin_user, action=AuditEvent.Action.VIEWED, obj=admin_user, channel="admin"
    )
    response = admin_client.get(f"/admin/privacy/auditevent/{event.pk}/change/", follow=True)
    assert response.redirect_chain == [(f"/admin/core/auditevent/{event.pk}/change/", 301)]
    assert response.status_code == 200
    assert response.context["original"] == event
