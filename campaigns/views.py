"""Public endpoints of campaigns: unsubscribe, the open pixel, the click redirect, the webhook.

Thin callers of `campaigns.tracking.hits` and `campaigns.bounces`. The tracking answers never
depend on whether anything was recorded, so they reveal nothing about the person behind a token.
"""

import base64
import hashlib

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.bounces.webhooks import WebhookRefused, receive_webhook
from campaigns.events import record_unsubscribe
from campaigns.tracking.hits import click_target, record_open, signed_click_target
from core.ratelimit import limit_posts
from crm.models import Client, Contact
from privacy.consent.preferences import unsubscribe
from privacy.languages import activate_for_link, contact_language
from privacy.links import InvalidLink, read_unsubscribe_token
from privacy.models import ConsentEvent
from privacy.views import link_problem, request_metadata

# The smallest transparent GIF: one pixel, 43 bytes.
# What `django.utils.cache.add_never_cache_headers` writes on a response without cache headers,
# set at once: parsing the header back, as it does, costs the tracking views a twentieth of
# their time, thousands of times a second.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("unsubscribe", limit_setting="LINK_POST_RATE_PER_IP")
def unsubscribe_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET: say what will happen, with one button. POST: unsubscribe (RFC 8058 one-click too)."""
    try:
        target = read_unsubscribe_token(token)
    except InvalidLink:
        return link_problem(request, expired=False)
    contact = Contact.objects.filter(pk=target.contact_id).first()
    client = Client.objects.filter(pk=target.client_id).first() if target.client_id else None
    if contact is None or (target.client_id and client is None):
        # Erased since the e-mail was sent: nothing left to unsubscribe, and nothing to reveal.
        return render(request, "public/unsubscribed.html", {"client": client})
    activate_for_link(request, contact_language(contact))
    if request.method in ("GET", "HEAD"):
        return render(request, "public/unsubscribe.html", {"client": client})
    unsubscribe(
        contact=contact,
        client=client,
        channel=ConsentEvent.Channel.UNSUBSCRIBE_LINK,
        metadata=request_metadata(request),
        idempotency_key=hashlib.sha256(token.encode()).hexdigest(),
    )
    if request.GET.get("m"):
        # The campaign e-mail's own link: count the opt-out in that campaign's report.
        record_unsubscribe(
            message_token=request.GET["m"], contact_id=contact.pk, client_id=target.client_id
        )
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse(status=200)
    return render(request, "public/unsubscribed.html", {"client": client})


@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """Record an open (when the person may be tracked) and answer with a transparent pixel."""
    record_open(request, token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    _never_cached(response)
    return response


@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str, link_id: str) -> HttpResponse:
    """Redirect to the campaign's own link, recording the click; 404 for anything else."""
    url = click_target(request, token=token, link_id=int(link_id))
    if url is None:
        raise Http404("No such link.")
    response = HttpResponseRedirect(url)
    _never_cached(response)
    return response


@require_http_methods(["GET", "HEAD"])
def signed_click(request: HttpRequest, value: str) -> HttpResponse:
    """Redirect to the link a signed click value names, recording the click; 404 if forged."""
    url = signed_click_target(request, value=value)
    if url is None:
        raise Http404("No such link.")
    response = HttpResponseRedirect(url)
    _never_cached(response)
    return response


@csrf_exempt
@require_http_methods(["POST"])
def provider_webhook(request: HttpRequest) -> HttpResponse:
    """Record a provider's events; 403 if the request is not provably theirs, 400 if unreadable."""
    try:
        return receive_webhook(request)
    except WebhookRefused as exc:
        return HttpResponse(str(exc), status=exc.status, content_type="text/plain")


def _never_cached(response: HttpResponse) -> None:
    """Mark a tracking answer as never to be stored, by a browser or any cache between."""
    response.headers["Expires"] = http_date()
    response.headers["Cache-Control"] = NEVER_CACHE
