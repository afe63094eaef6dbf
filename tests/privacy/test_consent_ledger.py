"""The consent ledger: refused entries write nothing, the derived state follows time, rebuilds."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditEvent
from privacy.consent.ledger import consent_states, rebuild_consent_states, record_consent
from privacy.models import ConsentEvent, ConsentState
from tests.privacy.factories import ContactFactory, PurposeFactory, grant, withdraw

pytestmark = pytest.mark.django_db


def written() -> dict[str, int]:
    return {
        "events": ConsentEvent.objects.count(),
        "states": ConsentState.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def snapshot() -> set[tuple]:
    """Every derived state, as what an audience query would read."""
    return set(
        ConsentState.objects.values_list(
            "contact_id", "purpose_id", "status", "last_event", "since"
        )
    )


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("action", {"action": "maybe"}),
        ("channel", {"channel": "carrier_pigeon"}),
        ("wording", {"wording": "   "}),
        ("evidence", {"channel": ConsentEvent.Channel.STAFF_PHONE}),
        ("evidence", {"channel": ConsentEvent.Channel.STAFF_PAPER, "evidence": " "}),
    ],
)
def test_an_entry_without_its_proof_is_refused_and_nothing_is_written(newsletter, field, change):
    contact = ContactFactory()
    entry = {
        "action": ConsentEvent.Action.GRANT,
        "wording": newsletter.consent_text,
        "channel": ConsentEvent.Channel.WEB_FORM,
        **change,
    }
    before = written()

    with pytest.raises(ValidationError) as refused:
        record_consent(contact=contact, purpose=newsletter, **entry)

    assert field in refused.value.message_dict
    assert written() == before


def test_a_retired_purpose_is_refused_and_nothing_is_written():
    retired = PurposeFactory(is_active=False)
    before = written()

    with pytest.raises(ValidationError) as refused:
        grant(ContactFactory(), retired)

    assert "purpose" in refused.value.message_dict
    assert written() == before


def test_a_staff_entry_with_evidence_is_recorded_with_who_took_it(admin_user, newsletter):
    contact = ContactFactory()

    event, created = record_consent(
        contact=contact,
        purpose=newsletter,
        action=ConsentEvent.Action.GRANT,
        wording="Agreed on the phone to receive the weekly letter.",
        channel=ConsentEvent.Channel.STAFF_PHONE,
        evidence="Call of 3 March with Sara; note filed in the call log.",
        recorded_by=admin_user,
    )

    assert created
    assert event.recorded_by == admin_user
    assert consent_states(contact) == {newsletter.code: "grant"}


def test_the_same_idempotency_key_records_one_event(newsletter):
    contact = ContactFactory()

    first = grant(contact, newsletter, idempotency_key="k" * 64)
    again, created = record_consent(
        contact=contact,
        purpose=newsletter,
        action=ConsentEvent.Action.GRANT,
        wording=newsletter.consent_text,
        channel=ConsentEvent.Channel.API,
        idempotency_key="k" * 64,
    )

    assert (again, created) == (first, False)
    assert ConsentEvent.objects.count() == 1


def test_an_older_grant_arriving_late_does_not_overwrite_the_current_state(newsletter):
    contact = ContactFactory()
    granted = grant(contact, newsletter)

    late = grant(contact, newsletter, occurred_at=timezone.now() - timedelta(days=1))

    assert ConsentEvent.objects.filter(contact=contact).count() == 2
    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert (state.status, state.last_event) == ("grant", granted)
    assert late.pk != granted.pk


def test_a_withdrawal_entered_late_still_takes_effect_over_earlier_grants(newsletter):
    contact = ContactFactory()
    grant(contact, newsletter)

    late = withdraw(contact, newsletter, occurred_at=timezone.now() - timedelta(days=1))

    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert (state.status, state.last_event) == ("withdraw", late)


@pytest.fixture
def ledger(newsletter, offers):
    """A few people whose decisions changed over time, in and out of order."""
    now = timezone.now()
    people = ContactFactory.create_batch(5)
    for n, contact in enumerate(people):
        grant(contact, newsletter, occurred_at=now - timedelta(days=10 + n))
        if n % 2:
            withdraw(contact, newsletter, occurred_at=now - timedelta(days=n))
        if n % 3 == 0:
            grant(contact, offers, occurred_at=now - timedelta(days=3))
            withdraw(contact, offers, occurred_at=now - timedelta(days=30))  # arrives late
    return people


def test_rebuilding_reproduces_the_states_exactly(ledger):
    expected = snapshot()
    ConsentState.objects.all().delete()

    assert rebuild_consent_states(batch_size=2) == len(expected)

    assert snapshot() == expected


def test_rebuilding_repairs_a_corrupted_state_and_twice_gives_the_same(ledger, newsletter):
    expected = snapshot()
    wrong = ConsentState.objects.filter(purpose=newsletter, status="grant").first()
    wrong.status = "withdraw"
    wrong.save()
    ConsentState.objects.filter(status="withdraw").exclude(pk=wrong.pk).first().delete()
    assert snapshot() != expected

    rebuild_consent_states()
    first = snapshot()
    rebuild_consent_states(batch_size=1)

    assert first == expected
    assert snapshot() == expected


def test_the_command_rebuilds_and_prints_the_count(ledger, capsys):
    expected = snapshot()
    ConsentState.objects.all().delete()

    call_command("rebuild_consent_states", "--batch-size", "3")

    assert snapshot() == expected
    assert f"Consent states rebuilt: {len(expected)}" in capsys.readouterr().out
