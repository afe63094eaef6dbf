"""The project's URLs plus an empty answer: the floors the tracking endpoints are compared with.

`/bench/empty/` goes through the full middleware stack, `/t/bench/empty/` through the tracking
endpoints' own smaller one (config/tracking_stack.py).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urls


def empty(request: HttpRequest) -> HttpResponse:
    """Answer nothing, through the middleware stack its path is given."""
    return HttpResponse(b"")


urlpatterns = [path("bench/empty/", empty), path("t/bench/empty/", empty), *project_urls]
