"""Who may be tracked: the legal basis per sender and the person's own choice (ePrivacy art. 5(3)).

An open pixel, a tracked link and a visitor cookie read or store something on the person's
device, so each needs a legal basis (EDPB guidelines 2/2023 name pixels and tracked links). Two
purposes of the consent ledger carry the person's choice: `analytics` (opens and clicks of our
e-mails) and `web_activity` (the pages viewed and files downloaded on the sender's website after
a click). The basis for each is the privacy officer's setting per sender (`TrackingBasis`):
consent (the default, and what no row means) tracks only people whose latest ledger event grants
the purpose; legitimate interest tracks everyone who has not refused or withdrawn it; off tracks
nobody. Restricted processing (art. 18) is never tracked. The public privacy page and the art. 14
notice describe the same settings, so what people read is what the sending does.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext

from core.actors import Actor
from core.audit import record_audit
from core.models import AuditEvent
from crm.models import Client, Contact
from privacy.models import ConsentEvent, ConsentState, TrackingBasis

EMAIL_TRACKING = "analytics"
WEB_ACTIVITY = "web_activity"
Basis = TrackingBasis.Basis
NOT_AGREED = (ConsentEvent.Action.REFUSE, ConsentEvent.Action.WITHDRAW)


def tracking_basis(client: Client | int | None) -> TrackingBasis:
    """Return the sender's tracking basis; an unsaved all-consent one when none is set."""
    client_id = client.pk if isinstance(client, Client) else client
    found = TrackingBasis.objects.filter(client_id=client_id).first()
    return found or TrackingBasis(client_id=client_id)


def tracking_bases() -> dict[int | None, TrackingBasis]:
    """Return every sender's tracking basis set by the officer, keyed by client id (None: us)."""
    return {basis.client_id: basis for basis in TrackingBasis.objects.all()}


def set_tracking_basis(
    *, client: Client | None, email_tracking: str, web_activity: str, actor: Actor
) -> TrackingBasis:
    """Set the sender's tracking basis, audited with who changed it; the next batch follows it."""
    if email_tracking not in Basis.values or web_activity not in Basis.values:
        raise ValueError("Unknown tracking basis.")
    with transaction.atomic():
        basis = TrackingBasis.objects.select_for_update().filter(
            client=client
        ).first() or TrackingBasis(client=client)
        changed = [
            name
            for name, value in (("email_tracking", email_tracking), ("web_activity", web_activity))
            if getattr(basis, name) != value or basis.pk is None
        ]
        basis.email_tracking, basis.web_activity = email_tracking, web_activity
        action = AuditEvent.Action.CHANGED if basis.pk else AuditEvent.Action.CREATED
        basis.save()
        record_audit(actor=actor, action=action, obj=basis, channel="admin", fields=changed)
    return basis


def basis_filter(basis: str, purpose_code: str) -> Q:
    """Return the condition on contacts that this basis for that purpose may track."""
    if basis == Basis.OFF:
        return Q(pk__in=[])
    states = ConsentState.objects.filter(contact=OuterRef("pk"), purpose__code=purpose_code)
    if basis == Basis.LEGITIMATE_INTEREST:
        allowed = ~Exists(states.filter(status__in=NOT_AGREED))
    else:
        allowed = Exists(states.filter(status=ConsentEvent.Action.GRANT))
    return Q(is_restricted=False) & allowed


def trackable_contact_ids(
    *, client_id: int | None, contact_ids: Iterable[int], purpose_code: str = EMAIL_TRACKING
) -> set[int]:
    """Return those of the contacts a sender may track for the purpose, in one query."""
    ids = list(contact_ids)
    if not ids:
        return set()
    basis = tracking_basis(client_id)
    value = basis.web_activity if purpose_code == WEB_ACTIVITY else basis.email_tracking
    return set(
        Contact.objects.filter(basis_filter(value, purpose_code), pk__in=ids).values_list(
            "pk", flat=True
        )
    )


def may_offer_web_activity(*, contact_id: int, client_id: int | None) -> bool:
    """Say whether a click may carry a visitor reference: tracked now, web activity not refused.

    With consent as the web-activity basis, the cookie banner on the sender's site is where the
    person decides: a reference is offered to anyone who has not refused or withdrawn it, and
    nothing is stored until they accept there. The click itself must be trackable now.
    """
    basis = tracking_basis(client_id)
    if basis.web_activity == Basis.OFF:
        return False
    return Contact.objects.filter(
        basis_filter(basis.email_tracking, EMAIL_TRACKING),
        basis_filter(Basis.LEGITIMATE_INTEREST, WEB_ACTIVITY),
        pk=contact_id,
    ).exists()


def web_activity_offer_ids(*, client_id: int | None, contact_ids: Iterable[int]) -> set[int]:
    """Return those of the contacts whose clicks may carry a visitor reference, in one query."""
    ids = list(contact_ids)
    basis = tracking_basis(client_id)
    if not ids or basis.web_activity == Basis.OFF:
        return set()
    return set(
        Contact.objects.filter(
            basis_filter(basis.email_tracking, EMAIL_TRACKING),
            basis_filter(Basis.LEGITIMATE_INTEREST, WEB_ACTIVITY),
            pk__in=ids,
        ).values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class SenderTracking:
    """What the privacy page and the art. 14 notice say about one sender's tracking."""

    sender: str
    sentences: list[str]


def _sentences(basis: TrackingBasis) -> list[str]:
    """Return the public sentences that state one sender's tracking bases."""
    email = {
        Basis.CONSENT: gettext(
            "Opens and clicks of these e-mails are recorded only if you agreed to it (consent); "
            "you can withdraw it at any time in your e-mail preferences."
        ),
        Basis.LEGITIMATE_INTEREST: gettext(
            "Opens and clicks of these e-mails are recorded on the basis of our legitimate "
            "interest in measuring them, unless you object in your e-mail preferences."
        ),
        Basis.OFF: gettext("Opens and clicks of these e-mails are not recorded."),
    }[basis.email_tracking]
    web = {
        Basis.CONSENT: gettext(
            "After a click on a link in these e-mails, the pages you view and the files you "
            "download on the website are recorded only if you accept the cookie banner there "
            "(consent)."
        ),
        Basis.LEGITIMATE_INTEREST: gettext(
            "After a click on a link in these e-mails, the pages you view and the files you "
            "download on the website are recorded on the basis of our legitimate interest, once "
            "you accept the cookie banner there, unless you object."
        ),
        Basis.OFF: gettext("Your visits to the website after a click are not recorded."),
    }[basis.web_activity]
    return [email, web]


def tracking_statements(clients: Iterable[Client] | None = None) -> list[SenderTracking]:
    """Return what is tracked for us and for senders, on which basis, in the active language.

    Without `clients`, every client whose basis the officer set is listed, and one line covers
    the rest (consent, the default).
    """
    bases = tracking_bases()
    listed = (
        list(clients)
        if clients is not None
        else [
            basis.client
            for basis in TrackingBasis.objects.filter(client__isnull=False)
            .select_related("client")
            .order_by("client__name")
        ]
    )
    statements = [
        SenderTracking(
            sender=gettext("E-mails we send for ourselves"),
            sentences=_sentences(bases.get(None) or TrackingBasis()),
        )
    ]
    statements += [
        SenderTracking(
            sender=gettext("E-mails we send for %(client)s") % {"client": client.name},
            sentences=_sentences(bases.get(client.pk) or TrackingBasis()),
        )
        for client in listed
    ]
    if clients is None:
        statements.append(
            SenderTracking(
                sender=gettext("E-mails we send for any other client"),
                sentences=_sentences(TrackingBasis()),
            )
        )
    return statements
