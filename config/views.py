"""Project-level pages: the public home page and the health check."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.health import broker_ok, database_ok, readiness


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Render the public home page with links to the public privacy pages."""
    return render(request, "public/home.html")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker are reachable, else 503, saying which failed."""
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: "ok" if ok else "unreachable" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """Answer 200 when ready for traffic (database, migrations, broker, cache), else 503."""
    probes = readiness()
    healthy = all(probe.ok for probe in probes.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {
            name: {"status": "ok" if probe.ok else "failed", "detail": probe.detail, "ms": probe.ms}
            for name, probe in probes.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)
