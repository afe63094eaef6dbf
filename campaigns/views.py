"""Public endpoints of campaigns: the open pixel, the click redirect and the provider's webhook.

Thin callers of `campaigns.tracking` and `campaigns.bounces`. The tracking answers never depend on
whether anything was recorded, so they reveal nothing about the person behind a token.
"""

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.bounces import WebhookRefused, receive_webhook
from campaigns.tracking import click_target, record_open

# The smallest transparent GIF: one pixel, 43 bytes.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Record an open (when the person may be tracked) and answer with a transparent pixel."""
    record_open(request, token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str, link_id: str) -> HttpResponse:
    """Redirect to the campaign's own link, recording the click; 404 for anything else."""
    url = click_target(request, token=token, link_id=int(link_id))
    if url is None:
        raise Http404("No such link.")
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    return response


@csrf_exempt
@require_http_methods(["POST"])
def provider_webhook(request: HttpRequest) -> HttpResponse:
    """Record the delivery, bounce and complaint events of a signed provider request; 403 if not."""
    try:
        recorded = receive_webhook(request)
    except WebhookRefused as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain")
    return HttpResponse(f"{recorded} recorded", content_type="text/plain")
