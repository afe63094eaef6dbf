"""The bounce reader over a set of real-world bounce and complaint mail (tests/fixtures/bounces).

Every fixture is labelled in manifest.tsv with the verdict a careful reader gives it and the
recipients it is about. The whole set goes through the bounce mailbox as an operator's would,
one person and one sent message per labelled recipient, and what happened to each address is
compared with its label: at least 95% of "address dead" verdicts must be right (precision) and at
least 85% of the dead addresses must be found (recall). The figures are in docs/operations.md.
"""

import mailbox
from collections import Counter
from pathlib import Path

import pytest

from campaigns.bounces.mailboxes import feed_mailbox
from campaigns.models import MessageEvent
from crm.models import Contact
from crm.suppression import may_contact
from tests.campaigns.factories import MessageFactory
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bounces"
OBSERVED = {"hard": "dead", "soft": "soft", "policy": "policy"}


def manifest() -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in (FIXTURES / "manifest.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, verdict, recipients, _collection = line.split("\t")
        rows.append((name, verdict, recipients.split()))
    return rows


def observed(message) -> str:
    """The verdict the CRM recorded for one message: what staff would see on the contact."""
    events = set(MessageEvent.objects.filter(message=message).values_list("kind", "detail"))
    if ("complained", "") in events:
        return "complaint"
    for detail in ("hard", "policy", "soft"):
        if ("bounced", detail) in events:
            return OBSERVED[detail]
    return "none"


@pytest.fixture
def fed(tmp_path):
    """Send one message to every labelled recipient, then feed the whole set as a Maildir."""
    rows = manifest()
    messages = {}
    for _name, _verdict, recipients in rows:
        for address in recipients:
            messages[address] = MessageFactory(contact=ContactFactory(email=address))
    box = mailbox.Maildir(tmp_path / "Maildir")
    for name, _verdict, _recipients in rows:
        box.add((FIXTURES / name).read_bytes())
    outcome = feed_mailbox(str(tmp_path / "Maildir"))
    return rows, messages, outcome


def test_the_set_is_varied_and_every_fixture_is_labelled():
    rows = manifest()
    on_disk = {p.name for p in FIXTURES.glob("*.eml")}
    assert on_disk == {name for name, _, _ in rows}
    verdicts = Counter(verdict for _, verdict, _ in rows)
    assert verdicts["dead"] >= 50 and verdicts["soft"] >= 30
    assert verdicts["policy"] >= 5 and verdicts["complaint"] >= 2


def test_dead_addresses_are_found_and_dead_verdicts_are_right(fed, record_property):
    rows, messages, outcome = fed
    right = wrong = missed = 0
    for _name, verdict, recipients in rows:
        if verdict == "dead" and not recipients:
            missed += 1  # a dead address the report does not name cannot be found
        for address in recipients:
            seen = observed(messages[address])
            if seen == "dead":
                right, wrong = right + (verdict == "dead"), wrong + (verdict != "dead")
            elif verdict == "dead":
                missed += 1
    precision = right / (right + wrong)
    recall = right / (right + missed)
    figures = (
        f"{len(rows)} mails; address dead: precision {precision:.1%} ({right}/{right + wrong}), "
        f"recall {recall:.1%} ({right}/{right + missed}); feed: {dict(outcome)}"
    )
    record_property("bounce_figures", figures)
    assert precision >= 0.95, figures
    assert recall >= 0.85, figures


def test_every_class_lands_where_it_should(fed, record_property):
    rows, messages, _outcome = fed
    agree = total = 0
    for _name, verdict, recipients in rows:
        for address in recipients:
            message = messages[address]
            status = Contact.objects.get(pk=message.contact_id).email_status
            total += 1
            agree += observed(message) == verdict
            if verdict in ("policy", "soft", "complaint"):
                # Only a dead address is marked bounced: never for a policy rejection.
                assert status != "bounced", address
            if verdict == "complaint":
                assert not may_contact(email=address), address
    record_property("bounce_classes_right", f"{agree}/{total}")
    assert agree / total >= 0.9, f"every class right for {agree} of {total} recipients"
