"""Fixed-window rate limits on public forms, counted in the shared cache (Redis in production)."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def allow(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt for `key` in `scope`; say whether it stays within `limit` per window."""
    name = f"ratelimit:{scope}:{key}"
    # add() is atomic: it creates the counter with the window as its lifetime only if absent.
    if cache.add(name, 1, timeout=window_seconds):
        return limit >= 1
    try:
        return cache.incr(name) <= limit
    except ValueError:
        # The counter expired between add() and incr(): this attempt opens a new window.
        cache.add(name, 1, timeout=window_seconds)
        return True


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


def allow_form_post(request: HttpRequest, *, form: str, email_digest: str) -> bool:
    """Count a public form post against the per-address and per-e-mail hourly limits."""
    hour = 60 * 60
    ip_key = hashlib.sha256(client_address(request).encode()).hexdigest()
    return allow(
        scope=f"{form}-ip", key=ip_key, limit=settings.FORM_RATE_PER_IP, window_seconds=hour
    ) and allow(
        scope=f"{form}-email",
        key=email_digest,
        limit=settings.FORM_RATE_PER_EMAIL,
        window_seconds=hour,
    )
