"""Fixed-window rate limits on public forms, counted in the shared cache (Redis in production)."""

from django.core.cache import cache


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
