"""Pages reached by a personal link are never stored by a browser or a proxy cache.

A URL carrying a personal token (preferences, unsubscribe, confirmation, verification, status,
download, tracking) shows one person's choices or data; `Cache-Control: no-store` keeps a shared
cache, a proxy or the next user of a shared computer from keeping a copy. One middleware, keyed on
the URL pattern's `token` argument, covers every such page, present and future.
"""

from django.utils.cache import add_never_cache_headers


class PersonalLinkNoStoreMiddleware:
    """Mark every response to a URL with a `token` argument as not to be stored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # A view that marked its answer already (the tracking pixel, thousands a second) is left.
        stored = "no-store" in response.get("Cache-Control", "")
        if match is not None and "token" in match.kwargs and not stored:
            add_never_cache_headers(response)
        return response
