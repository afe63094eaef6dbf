"""Tracking requests get the smallest middleware stack that keeps every security header.

The open pixel, the click redirect and the web-activity endpoints (everything under `/t/`) are
answered thousands of times a second (docs/performance.md) and use none of the session, locale,
CSRF, authentication, message or two-factor middleware: they read no session and no user, and
their views take safe methods or are CSRF-exempt. The WSGI entry point sends those paths to a
second Django handler whose chain is `TRACKING_MIDDLEWARE` alone (the request log and the header
middleware, in `MIDDLEWARE`'s order); every other path, and the URLs and views themselves, are as
before.
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

TRACKING_PREFIX = "/t/"
# A middleware with these hooks needs Django's full chain-building; the tracking stack has none.
_VIEW_HOOKS = ("process_view", "process_exception", "process_template_response")

WSGIApplication = Callable[[dict, Callable], Iterable[bytes]]


class TrackingHandler(WSGIHandler):
    """Django's WSGI handler with a chain built from `TRACKING_MIDDLEWARE` only."""

    def load_middleware(self, is_async: bool = False) -> None:
        """Wrap the view in each tracking middleware, innermost last, as Django builds its chain."""
        handler = convert_exception_to_response(self._get_response)
        for dotted_path in reversed(settings.TRACKING_MIDDLEWARE):
            middleware = import_string(dotted_path)
            if any(hasattr(middleware, hook) for hook in _VIEW_HOOKS):
                raise ImproperlyConfigured(
                    f"{dotted_path} has view, exception or template hooks; "
                    "TRACKING_MIDDLEWARE takes middleware without them."
                )
            handler = convert_exception_to_response(middleware(handler))
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = handler


def dispatching(full: WSGIApplication, tracking: WSGIApplication) -> WSGIApplication:
    """Return a WSGI application sending `/t/` paths to `tracking` and every other to `full`."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(TRACKING_PREFIX):
            return tracking(environ, start_response)
        return full(environ, start_response)

    return application
