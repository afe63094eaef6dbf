"""Public pages of the privacy app: statement, subscribe, preferences, contact form.

Views parse the request and call the functions that do the work. Links that change something
(confirmation, preferences, unsubscribe) work without login, cookies or JavaScript; their forms
are exempt from CSRF because the signed token in the URL is what authorises them.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.ratelimit import allow_form_post, client_address, limit_posts, too_many_requests
from crm.contact_form import receive_contact_message
from crm.models import Client, Contact
from crm.senders import senders_of
from crm.suppression import email_hash, suppressed_clients
from privacy.accountability.registers import (
    DOCUMENTS,
    export_register,
    processor_register,
    public_activities,
)
from privacy.consent.ledger import RequestMetadata, consent_states, current_notice
from privacy.consent.preferences import (
    is_globally_suppressed,
    unsubscribe,
    update_preferences,
)
from privacy.consent.subscriptions import (
    WordingChanged,
    confirm_subscription,
    offered_purposes,
    request_subscription,
)
from privacy.consent.tracking import tracking_statements
from privacy.deletion.retention import schedule
from privacy.forms import ContactMessageForm, PreferencesForm, SubscribeForm
from privacy.languages import activate_for_link, contact_language
from privacy.links import (
    ExpiredLink,
    InvalidLink,
    read_preferences_token,
    read_subscription_token,
)
from privacy.models import ConsentEvent, NoticeVersion, Purpose


def request_metadata(request: HttpRequest) -> RequestMetadata:
    """Return what the consent ledger keeps of the request: the user agent and the address."""
    return RequestMetadata(
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip_address=client_address(request) or None,
    )


def link_problem(request: HttpRequest, *, expired: bool, status: int = 400) -> HttpResponse:
    """Answer a personal link that is broken or expired, without saying whose it was."""
    return render(request, "public/link_problem.html", {"expired": expired}, status=status)


def _offered_queryset():
    return Purpose.objects.filter(pk__in=[p.pk for p in offered_purposes()])


@require_http_methods(["GET", "HEAD"])
def privacy_statement(request: HttpRequest) -> HttpResponse:
    """Render the statement in force, purposes, the registers, retention and older versions."""
    notice = current_notice()
    context = {
        "notice": notice,
        "purposes": Purpose.objects.filter(is_active=True).order_by("name"),
        # Rendered from the registers themselves, so the statement cannot drift from them.
        "activities": public_activities(),
        "processors": processor_register(),
        "retention": schedule(),
        "tracking": tracking_statements(),
        "versions": NoticeVersion.objects.filter(
            published_at__isnull=False, effective_at__lte=timezone.now()
        ).exclude(pk=notice.pk if notice else None),
    }
    return render(request, "public/privacy.html", context)


@require_http_methods(["GET"])
def register_export(request: HttpRequest, document: str) -> HttpResponse:
    """Hand a register document to staff allowed to view the record of processing; audited."""
    # The URL wraps this view in admin_view: only active staff get here at all.
    if not request.user.has_perm("privacy.view_processingactivity"):
        raise PermissionDenied
    if document not in DOCUMENTS:
        raise Http404("No such register document.")
    exported = export_register(document=document, actor=request.user)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    disposition = "attachment" if exported.attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{exported.filename}"'
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "HEAD"])
def notice_version(request: HttpRequest, version: str) -> HttpResponse:
    """Render one published version of the statement."""
    notice = get_object_or_404(NoticeVersion, version=version, published_at__isnull=False)
    return render(request, "public/notice_version.html", {"notice": notice})


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("subscribe", limit_setting="PUBLIC_POST_RATE_PER_IP")
def subscribe(request: HttpRequest) -> HttpResponse:
    """Show the subscription form; on a valid post, queue the confirmation mail for the worker."""
    purposes = _offered_queryset()
    form = SubscribeForm(request.POST or None, purposes=purposes)
    if request.method == "POST" and form.is_valid():
        digest = email_hash(form.cleaned_data["email"])
        if not allow_form_post(request, form="subscribe", email_digest=digest):
            return too_many_requests(request)
        request_subscription(
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            purpose_codes=[p.code for p in form.cleaned_data["purposes"]],
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        return redirect("subscribe-sent")
    return render(request, "public/subscribe.html", {"form": form, "notice": current_notice()})


@require_http_methods(["GET", "HEAD"])
def subscribe_sent(request: HttpRequest) -> HttpResponse:
    """Say the same thing to everyone: check your inbox."""
    return render(request, "public/subscribe_sent.html")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("subscribe-confirm", limit_setting="LINK_POST_RATE_PER_IP")
def subscribe_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Ask for the confirming click (GET), then grant the consents (POST)."""
    try:
        if request.method in ("GET", "HEAD"):
            # Check the link before offering the button, so a bad one is told at once.
            activate_for_link(request, read_subscription_token(token).language)
            return render(request, "public/subscribe_confirm.html", {"token": token})
        activate_for_link(request, read_subscription_token(token).language)
        outcome = confirm_subscription(token=token, metadata=request_metadata(request))
    except ExpiredLink:
        return link_problem(request, expired=True)
    except InvalidLink:
        return link_problem(request, expired=False)
    except WordingChanged:
        return render(request, "public/subscribe_changed.html", status=409)
    return render(request, "public/subscribe_done.html", {"outcome": outcome})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("preferences", limit_setting="LINK_POST_RATE_PER_IP")
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """Show and change per-purpose consents, per-sender and global unsubscribes."""
    try:
        contact = Contact.objects.filter(pk=read_preferences_token(token)).first()
    except InvalidLink:
        return link_problem(request, expired=False)
    if contact is None:
        return link_problem(request, expired=False, status=404)
    activate_for_link(request, contact_language(contact))
    purposes = _offered_queryset()
    saved = False
    if request.method == "POST" and "unsubscribe_all" in request.POST:
        unsubscribe(
            contact=contact,
            client=None,
            channel=ConsentEvent.Channel.PREFERENCE_CENTRE,
            metadata=request_metadata(request),
        )
        return render(request, "public/unsubscribed.html", {"client": None})
    if request.method == "POST" and request.POST.get("unsubscribe_client"):
        try:
            # Only a sender of this person: another client's id answers as an unknown one.
            client = senders_of(contact).get(pk=int(request.POST["unsubscribe_client"]))
        except (ValueError, Client.DoesNotExist) as exc:
            raise Http404("No such sender.") from exc
        unsubscribe(
            contact=contact,
            client=client,
            channel=ConsentEvent.Channel.PREFERENCE_CENTRE,
            metadata=request_metadata(request),
        )
        return render(request, "public/unsubscribed.html", {"client": client})
    form = PreferencesForm(request.POST or None, purposes=purposes)
    if request.method == "POST" and form.is_valid():
        update_preferences(
            contact=contact,
            granted=[p.code for p in form.cleaned_data["purposes"]],
            metadata=request_metadata(request),
            idempotency_key=hashlib.sha256(
                f"{contact.pk}:{form.cleaned_data['nonce']}".encode()
            ).hexdigest(),
        )
        saved = True
        form = PreferencesForm(purposes=purposes)
    states = consent_states(contact)
    form.initial["purposes"] = [
        p.code for p in purposes if states.get(p.code) == ConsentEvent.Action.GRANT
    ]
    blocked = suppressed_clients(email=contact.email) if contact.email else set()
    senders = senders_of(contact)
    context = {
        "form": form,
        "saved": saved,
        "suppressed": is_globally_suppressed(contact),
        # Only the senders that supplied or mailed this person: nobody else's business is shown.
        "clients": senders.exclude(pk__in=blocked),
        "blocked_clients": senders.filter(pk__in=blocked),
    }
    return render(request, "public/preferences.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("contact", limit_setting="PUBLIC_POST_RATE_PER_IP")
def contact_message(request: HttpRequest) -> HttpResponse:
    """Take a message for staff; it never implies any marketing consent."""
    form = ContactMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        digest = email_hash(form.cleaned_data["email"])
        if not allow_form_post(request, form="contact", email_digest=digest):
            return too_many_requests(request)
        receive_contact_message(**form.cleaned_data)
        return render(request, "public/contact_sent.html")
    return render(request, "public/contact.html", {"form": form})
