"""Opt-outs that outlive the data (DESIGN rule 4; GDPR art. 17(1), 21(3)).

After an unsubscribe, objection, erasure, complaint or hard bounce, only a keyed hash of the
normalised address is kept: HMAC-SHA256 with `PRIVACY_HASH_KEY`, so the list cannot be reversed by
hashing a directory of addresses without the key. A suppression is global or for one client.
`may_contact()` is the one answer to "may we contact this address for this sender?": imports,
forms, the API and campaign sending all ask it. A global suppression is lifted only by the
person's own double opt-in, and the lifting is recorded, never deleted.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.hashing import stored_email_hash
from core.normalisation import normalise_email
from crm.models import Client, Suppression


def email_hash(email: str) -> str:
    """Return the keyed hash of the normalised address; raise ValidationError if invalid."""
    return stored_email_hash(normalise_email(email))


def _active(hashes: Iterable[str], client: Client | None):
    scope = Q(client__isnull=True)
    if client is not None:
        scope |= Q(client=client)
    return Suppression.objects.filter(scope, email_hash__in=list(hashes), lifted_at__isnull=True)


def may_contact(*, email: str, client: Client | None = None) -> bool:
    """Say whether the address may be contacted by `client` (None: by us); invalid ones may not."""
    try:
        digest = email_hash(email)
    except ValidationError:
        return False
    return not _active([digest], client).exists()


def suppressed_hashes(hashes: Iterable[str], *, client: Client | None = None) -> set[str]:
    """Return which of the hashes are suppressed for `client`, in one query (for batches)."""
    return set(_active(hashes, client).values_list("email_hash", flat=True))


def suppressed_clients(*, email: str) -> set[int]:
    """Return the ids of the clients for which the address is suppressed."""
    return set(
        Suppression.objects.filter(
            email_hash=email_hash(email), client__isnull=False, lifted_at__isnull=True
        ).values_list("client_id", flat=True)
    )


def suppress(*, email: str, reason: str, client: Client | None = None) -> Suppression:
    """Suppress the address globally or for one client; return the existing row if already so."""
    digest = email_hash(email)
    existing = Suppression.objects.filter(
        email_hash=digest, client=client, lifted_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(email_hash=digest, client=client, reason=reason)
    except IntegrityError:
        # A concurrent request suppressed the same address first: that row is the answer.
        return Suppression.objects.get(email_hash=digest, client=client, lifted_at__isnull=True)


def lift_global_suppression(*, email: str, why: str) -> int:
    """Lift the address's global suppression, recording why; return how many were lifted."""
    return Suppression.objects.filter(
        email_hash=email_hash(email), client__isnull=True, lifted_at__isnull=True
    ).update(lifted_at=timezone.now(), lift_reason=why[:200])
