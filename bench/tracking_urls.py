"""The project's URLs plus an empty answer: the floor the tracking endpoints are compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urls


def empty(request: HttpRequest) -> HttpResponse:
    """Answer nothing, through the same middleware as every other view."""
    return HttpResponse(b"")


urlpatterns = [path("bench/empty/", empty), *project_urls]
