"""Public endpoints of web activity: the script for the operator's site, the banner's choice, the
beacon and its no-script image.

Thin callers of `campaigns.tracking.visitors`. The choice and the beacon are plain-text POSTs (no
preflight) from the operator's pages; only a listed origin gets the CORS header that lets the
script read an answer. `Sec-GPC: 1` is answered at once with nothing read or recorded.
"""

import contextlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.tracking.texts import all_banner_texts
from campaigns.tracking.visitors import (
    VisitorRefused,
    decide,
    gpc,
    listed_host,
    record_visit,
)
from campaigns.views import PIXEL
from core.ratelimit import limit_posts
from privacy.views import request_metadata

SCRIPT = Path(__file__).resolve().parent / "tracking" / "tracker.js"
MAX_BODY = 4096


@cache
def _script(privacy_url: str) -> str:
    """Return the script with the banner's texts in every language, built once per process."""
    return (
        SCRIPT.read_text()
        .replace("__TEXTS__", json.dumps(all_banner_texts(), ensure_ascii=False))
        .replace("__PRIVACY_URL__", json.dumps(privacy_url))
        .replace("__COOKIE_DAYS__", str(int(settings.WEB_VISITOR_COOKIE_DAYS)))
    )


@require_http_methods(["GET", "HEAD"])
def tracker_script(request: HttpRequest) -> HttpResponse:
    """Serve the web-activity script the operator includes on their own pages."""
    response = HttpResponse(
        _script(f"{settings.SITE_URL}{reverse('privacy')}"),
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _allow_origin(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let a listed origin's script read the answer."""
    origin = request.headers.get("Origin", "")
    if origin and listed_host(origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    add_never_cache_headers(response)
    return response


def _body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_BODY:
        return {}
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(data: dict, key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else ""


@csrf_exempt
@require_http_methods(["POST"])
# Behind mailed links, like the unsubscribe: many visitors may share a company's address.
@limit_posts("visitor-choice", limit_setting="LINK_POST_RATE_PER_IP")
def visitor_choice(request: HttpRequest) -> HttpResponse:
    """Record the cookie banner's choice; answer the visitor value to keep on acceptance."""
    if gpc(request):
        return _allow_origin(request, JsonResponse({}))
    data = _body(request)
    origin = request.headers.get("Origin", "")
    if origin and not listed_host(origin):
        return _allow_origin(request, JsonResponse({"error": "unlisted"}, status=403))
    try:
        visitor = decide(
            reference=_text(data, "reference"),
            visitor=_text(data, "visitor"),
            choice=_text(data, "choice"),
            language=_text(data, "language"),
            page=_text(data, "page"),
            metadata=request_metadata(request),
        )
    except VisitorRefused:
        return _allow_origin(request, JsonResponse({"error": "refused"}, status=400))
    return _allow_origin(request, JsonResponse({"visitor": visitor} if visitor else {}))


@csrf_exempt
@require_http_methods(["POST"])
def visit_beacon(request: HttpRequest) -> HttpResponse:
    """Buffer a page view or download of a visitor who accepted; 403 for anything else."""
    if gpc(request):
        return _allow_origin(request, HttpResponse(status=204))
    data = _body(request)
    try:
        record_visit(
            visitor=_text(data, "visitor"),
            kind=_text(data, "kind"),
            page=_text(data, "page"),
            title=_text(data, "title"),
            referrer=_text(data, "referrer"),
            origin=request.headers.get("Origin", ""),
        )
    except VisitorRefused:
        return _allow_origin(request, HttpResponse(status=403))
    return _allow_origin(request, HttpResponse(status=204))


@require_http_methods(["GET", "HEAD"])
def visit_pixel(request: HttpRequest) -> HttpResponse:
    """The no-script fallback: a page view from the referring page, with the visitor's cookie.

    The cookie reaches this address only when the CRM runs under the operator's own domain.
    """
    visitor = request.COOKIES.get("crm_visitor", "")
    page = request.headers.get("Referer", "")
    if visitor and page and not gpc(request):
        with contextlib.suppress(VisitorRefused):
            record_visit(
                visitor=visitor, kind="page_view", page=page, title="", referrer="", origin=""
            )
    response = HttpResponse(PIXEL, content_type="image/gif")
    add_never_cache_headers(response)
    return response
