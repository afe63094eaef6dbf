"""Opt-outs that outlive the data (DESIGN rule 4; GDPR art. 17(1), 21(3)).

After an unsubscribe, objection, erasure, complaint or hard bounce, only a keyed hash of the
normalised address is kept: HMAC-SHA256 with `PRIVACY_HASH_KEY`, so the list cannot be reversed by
hashing a directory of addresses without the key. A suppression is global or for one client.
`active_suppressions()` is the one definition of a suppression in force for a sender: the list
import and the campaign audience embed it in their SQL, and the functions below ask it.
`may_contact()` answers for one address: contacts ask it when staff or the API give a contact an
address (crm.contacts), the consent ledger before a grant that is not a double opt-in, the
preferences page, the API's suppression check and the demo seeding; the daily art. 14 notices ask
`suppressed_hashes()` for a batch. A global suppression is lifted only by the person's own double
opt-in, and the lifting is recorded, never deleted.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.events import EventKind, emit_event
from core.hashing import stored_email_hash
from core.normalisation import canonical_email
from crm.models import Client, Contact, Suppression


def stored_hashes(contact_ids: list[int]) -> QuerySet:
    """Return the keyed hashes the contacts store beside their addresses, as a subquery.

    How address-keyed rows (suppressions, certificates, rejected import rows) are found: the
    database reads the hashes itself, which is several times faster than thousands of them sent
    as one parameter (docs/performance.md).
    """
    return (
        Contact.objects.filter(pk__any_of=contact_ids).exclude(email_hash="").values("email_hash")
    )


def stored_hashes_of(contact_ids: list[int]) -> list[str]:
    """Return the keyed hashes the contacts store beside their addresses, as a list.

    For a match beside another condition (a request is the contact's by link or by address),
    where PostgreSQL plans the subquery as a filter on every row.
    """
    return list(stored_hashes(contact_ids).values_list("email_hash", flat=True))


def email_hash(email: str) -> str:
    """Return the keyed hash of the address as stored; raise ValidationError if it is none."""
    return stored_email_hash(canonical_email(email))


def active_suppressions(*, client: Client | int | None = None) -> QuerySet[Suppression]:
    """Return the suppressions in force for `client` (None: us): the global ones and its own."""
    scope = Q(client__isnull=True)
    if client is not None:
        scope |= Q(client=client)
    return _in_force().filter(scope)


def _in_force() -> QuerySet[Suppression]:
    return Suppression.objects.filter(lifted_at__isnull=True)


def may_contact(*, email: str, client: Client | None = None) -> bool:
    """Say whether the address may be contacted by `client` (None: by us); invalid ones may not."""
    try:
        digest = email_hash(email)
    except ValidationError:
        return False
    return not active_suppressions(client=client).filter(email_hash=digest).exists()


def suppressed_hashes(hashes: Iterable[str], *, client: Client | None = None) -> set[str]:
    """Return which of the hashes are suppressed for `client`, in one query (for batches)."""
    active = active_suppressions(client=client).filter(email_hash__in=list(hashes))
    return set(active.values_list("email_hash", flat=True))


def suppressed_clients(*, email: str) -> set[int]:
    """Return the ids of the clients for which the address is suppressed."""
    return set(
        _in_force()
        .filter(email_hash=email_hash(email), client__isnull=False)
        .values_list("client_id", flat=True)
    )


def suppress(*, email: str, reason: str, client: Client | None = None) -> Suppression:
    """Suppress the address globally or for one client; return the existing row if already so.

    A new suppression is announced as an event naming the contact, if the address is one's.
    """
    digest = email_hash(email)
    existing = _in_force().filter(email_hash=digest, client=client).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            row = Suppression.objects.create(email_hash=digest, client=client, reason=reason)
            contact = Contact.objects.filter(email=canonical_email(email)).values("pk").first()
            emit_event(
                EventKind.SUPPRESSION_ADDED,
                contact_id=contact["pk"] if contact else None,
                suppression=row.pk,
                client=client.pk if client is not None else None,
                reason=reason,
            )
            return row
    except IntegrityError:
        # A concurrent request suppressed the same address first: that row is the answer.
        return _in_force().get(email_hash=digest, client=client)


def lift_global_suppression(*, email: str, why: str) -> int:
    """Lift the address's global suppression, recording why; return how many were lifted."""
    return (
        _in_force()
        .filter(email_hash=email_hash(email), client__isnull=True)
        .update(lifted_at=timezone.now(), lift_reason=why[:200])
    )
