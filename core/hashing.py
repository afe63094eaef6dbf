"""The keyed hash of an e-mail address, apart from any model so that models can use it too.

HMAC-SHA256 with `PRIVACY_HASH_KEY`: a suppression list or an analysis key cannot be reversed by
hashing a directory of addresses without the key (DESIGN rules 4 and 5).
"""

import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings


def stored_email_hash(address: str) -> str:
    """Return the keyed hash of an address already stored normalised (as contacts hold them)."""
    return stored_email_hasher()(address)


def stored_email_hasher() -> Callable[[str], str]:
    """Return `stored_email_hash` with the key prepared once, for hashing a list in a loop."""
    keyed = hmac.new(settings.PRIVACY_HASH_KEY.encode(), digestmod=hashlib.sha256)

    def digest(address: str) -> str:
        one = keyed.copy()
        one.update(address.encode())
        return one.hexdigest()

    return digest
