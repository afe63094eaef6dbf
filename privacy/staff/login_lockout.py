"""Admin login lock-out: repeated failures lock the account and the client address for a while.

Security of processing (GDPR art. 32): staff accounts open every person's record, so passwords
must not be guessable at speed. Failures are counted three times in the shared cache, within a
window of `LOGIN_LOCKOUT_SECONDS`: per account and client address together
(`LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS` lock that account from that address only, so a
stranger's guesses do not lock the owner out), per client address (`LOGIN_FAILURES_PER_ADDRESS`
lock that address for every account) and per account across all addresses
(`LOGIN_FAILURES_PER_ACCOUNT`, a higher bar against guesses spread over many addresses), each
for `LOGIN_LOCKOUT_SECONDS` from the failure that tripped it. While locked, even the right
password is refused, with one message that does not say whether the account exists.

The counters are keyed by a keyed hash of the username (unknown names included, so the lock-out
does not reveal which accounts exist) and a digest of the address, and expire on their own: the
audit trail keeps the failures themselves (`record_login`), for known accounts only.
"""

import logging
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from core.audit import record_login, record_unknown_login_failure
from core.ratelimit import address_digest

SALT = "privacy.login-lockout"
logger = logging.getLogger(__name__)


def _keys(*, username: str, request: HttpRequest | None) -> list[tuple[str, int]]:
    """Return the (key, limit) pairs this attempt counts against: account, pair, address."""
    account = salted_hmac(SALT, username.strip().casefold()).hexdigest()
    keys = [(f"login:account:{account}", settings.LOGIN_FAILURES_PER_ACCOUNT)]
    if request is not None:
        address = address_digest(request)
        keys += [
            (f"login:pair:{account}:{address}", settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS),
            (f"login:address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
        ]
    return keys


def locked_for(*, username: str, request: HttpRequest | None) -> int:
    """Return how many seconds this account or address stays locked; 0 when it is not."""
    keys = _keys(username=username, request=request)
    try:
        until = max(cache.get(f"{key}:locked-until") or 0 for key, _ in keys)
    except Exception:
        # Any backend's connection error: the password is still checked, the lock is not.
        logger.warning("login lock-out not checked: the cache is unreachable")
        return 0
    return max(0, math.ceil(until - time.time()))


def count_failure(*, username: str, request: HttpRequest | None) -> bool:
    """Count a failed login against the account and the address; say whether it locked one."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    locked = False
    try:
        for key, limit in _keys(username=username, request=request):
            failures = f"{key}:failures"
            if cache.add(failures, 1, timeout=window):
                count = 1
            else:
                try:
                    count = cache.incr(failures)
                except ValueError:
                    cache.add(failures, 1, timeout=window)
                    count = 1
            if count >= limit:
                cache.set(f"{key}:locked-until", time.time() + window, timeout=window)
                cache.delete(failures)
                locked = True
    except Exception:
        logger.warning("login failure not counted: the cache is unreachable")
    return locked


def clear_account_failures(*, username: str, request: HttpRequest | None = None) -> None:
    """Forget an account's failures (and its own from this address) after it logged in.

    The address keeps its count: one good login does not excuse guesses at other accounts.
    """
    keys = [key for key, _ in _keys(username=username, request=request)[:2]]
    try:
        cache.delete_many([f"{key}:failures" for key in keys])
    except Exception:
        logger.warning("login failures not cleared: the cache is unreachable")


def _account(username: str):
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


def record_failed_login(*, username: str, request: HttpRequest | None) -> None:
    """Count a failed login and append it to the audit trail, noting when it locked something."""
    details = {"locked": True} if count_failure(username=username, request=request) else None
    user = _account(username)
    if user is None:
        record_unknown_login_failure(details=details)
    else:
        record_login(user=user, succeeded=False, details=details)


def refuse_if_locked(*, username: str, request: HttpRequest | None) -> int:
    """Return the seconds left of a lock on this account or address, auditing the refused try."""
    seconds = locked_for(username=username, request=request)
    if seconds:
        user = _account(username)
        if user is None:
            record_unknown_login_failure(details={"locked_out": True})
        else:
            record_login(user=user, succeeded=False, details={"locked_out": True})
    return seconds
