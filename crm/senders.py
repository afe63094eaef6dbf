"""Which senders (clients) are this person's business: the ones that supplied or mailed them.

The preference centre shows and accepts only these, so that a link never reveals who else we work
for, and a person mailed by a client that never supplied them can still stop that client. Lists a
client supplied are provenance (this app); who mailed whom is the campaigns app's record, which
registers its lookup here (`register_sender_lookup`) rather than being imported from below.
"""

from collections.abc import Callable

from django.db.models import Q, QuerySet

from crm.models import Client, Contact

# Each lookup maps a contact's id to a condition on Client: "this client mailed them".
_lookups: list[Callable[[int], Q]] = []


def register_sender_lookup(lookup: Callable[[int], Q]) -> None:
    """Add a way a client comes to have dealt with a contact (a higher app's own record)."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def senders_of(contact: Contact) -> QuerySet[Client]:
    """Return the clients that supplied this contact or sent them e-mail, by name."""
    condition = Q(sources__contact_sources__contact_id=contact.pk)
    for lookup in _lookups:
        condition |= lookup(contact.pk)
    return Client.objects.filter(pk__in=Client.objects.filter(condition).values("pk")).order_by(
        "name"
    )
