"""Fixed-window rate limits on public forms, counted in the shared cache (Redis in production).

Windows are aligned to the clock (an hourly limit starts again on the hour), so a refusal can say
when to try again (`Retry-After`). When the cache cannot be reached the limit is not applied and
the failure is logged: an outage of Redis must not take the public forms down with it.
"""

import hashlib
import logging
import math
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

HOUR = 60 * 60
logger = logging.getLogger(__name__)


def allow(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt for `key` in `scope`; say whether it stays within `limit` per window."""
    name = f"ratelimit:{scope}:{key}:{int(time.time()) // window_seconds}"
    try:
        # add() is atomic: it creates the counter with the window as its lifetime only if absent.
        if cache.add(name, 1, timeout=window_seconds):
            return limit >= 1
        try:
            return cache.incr(name) <= limit
        except ValueError:
            # The counter expired between add() and incr(): this attempt opens a new window.
            cache.add(name, 1, timeout=window_seconds)
            return True
    except Exception:
        # Any backend's connection error: counting is a guard, serving the page comes first.
        logger.warning("rate limit %s not applied: the cache is unreachable", scope)
        return True


def retry_after(window_seconds: int = HOUR) -> int:
    """Return the seconds until the current window of that length ends."""
    return window_seconds - int(time.time()) % window_seconds


def too_many_requests(request: HttpRequest, *, window_seconds: int = HOUR) -> HttpResponse:
    """Answer 429 with the public page saying when to try again, and a Retry-After header."""
    seconds = retry_after(window_seconds)
    response = render(request, "429.html", {"retry_minutes": math.ceil(seconds / 60)}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def client_address(request: HttpRequest) -> str:
    """Return the visitor's IP address, read behind `FORWARDED_FOR_PROXIES` trusted proxies.

    Each trusted proxy appends the address it received from to X-Forwarded-For, so the visitor is
    the entry that many places from the right; entries further left could be forged by anyone.
    """
    proxies = settings.FORWARDED_FOR_PROXIES
    if proxies:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [part for part in chain if part]
        if len(chain) >= proxies:
            return chain[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def address_digest(request: HttpRequest) -> str:
    """Return a digest of the visitor's address: the counters' key, never the address itself."""
    return hashlib.sha256(client_address(request).encode()).hexdigest()


def allow_form_post(request: HttpRequest, *, form: str, email_digest: str) -> bool:
    """Count a public form post against the per-address and per-e-mail hourly limits."""
    return allow(
        scope=f"{form}-ip",
        key=address_digest(request),
        limit=settings.FORM_RATE_PER_IP,
        window_seconds=HOUR,
    ) and allow(
        scope=f"{form}-email",
        key=email_digest,
        limit=settings.FORM_RATE_PER_EMAIL,
        window_seconds=HOUR,
    )


def limit_posts(scope: str, *, limit_setting: str) -> Callable:
    """Decorate a public view: count every POST per visitor address; past the limit, answer 429.

    `limit_setting` names the setting with the hourly limit. Forms count again, per address and
    per e-mail, once their input is valid; this guard also counts the posts that never get there.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and not allow(
                scope=f"{scope}-posts",
                key=address_digest(request),
                limit=getattr(settings, limit_setting),
                window_seconds=HOUR,
            ):
                return too_many_requests(request)
            return view(request, *args, **kwargs)

        return limited

    return decorator
