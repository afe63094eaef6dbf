"""Public pages of data-subject requests: the form, verification, status and the export download.

The form answers the same page, status and (since mail goes out from the worker) timing whether or
not the address is known. Links are signed; verification links are single-use and expire.
"""

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.ratelimit import client_address, limit_posts, too_many_requests
from privacy.forms import SubjectRequestForm
from privacy.languages import activate_for_link, requester_language
from privacy.links import ExpiredLink, InvalidLink
from privacy.models import Purpose, SubjectRequest
from privacy.requests.exports import (
    ExportExpired,
    ExportForbidden,
    ExportUnavailable,
    open_export,
)
from privacy.requests.subject_requests import (
    RateLimited,
    objectable_purposes,
    request_from_status_token,
    submit_request,
    verification_link_language,
    verify_request,
)

# Starting again after an expired link means a new request, not the subscription form.
_expired = {"expired": True, "again_url": reverse_lazy("privacy-request-new")}
_broken = {"expired": False}
_forbidden = {"expired": False, "staff_forbidden": True}


@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("request-form", limit_setting="PUBLIC_POST_RATE_PER_IP")
def new_request(request: HttpRequest) -> HttpResponse:
    """Take a request of any kind; mail a verification link from the worker."""
    form = SubjectRequestForm(
        request.POST or None,
        objectable=objectable_purposes(),
        consent_purposes=Purpose.objects.filter(
            is_active=True, legal_basis=Purpose.LegalBasis.CONSENT
        ),
    )
    if request.method == "POST" and form.is_valid():
        try:
            submit_request(
                kind=form.cleaned_data["kind"],
                email=form.cleaned_data["email"],
                details=form.cleaned_data["details"],
                purposes=form.cleaned_data["purposes"],
                wants_recipients=form.cleaned_data["wants_recipients"],
                channel=SubjectRequest.Channel.WEB_FORM,
                client_address=client_address(request),
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        except RateLimited:
            return too_many_requests(request)
        return redirect("privacy-request-sent")
    return render(request, "public/request_new.html", {"form": form})


@require_http_methods(["GET", "HEAD"])
def request_sent(request: HttpRequest) -> HttpResponse:
    """Say the same thing to everyone: check your inbox."""
    minutes = settings.REQUEST_VERIFY_MAX_AGE // 60
    return render(request, "public/request_sent.html", {"link_minutes": minutes})


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@limit_posts("request-verify", limit_setting="LINK_POST_RATE_PER_IP")
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Ask for the confirming click (GET: mail scanners follow links), then verify (POST)."""
    activate_for_link(request, verification_link_language(token))
    if request.method in ("GET", "HEAD"):
        return render(request, "public/request_verify.html")
    try:
        subject_request = verify_request(token=token)
    except ExpiredLink:
        return render(request, "public/link_problem.html", _expired, status=400)
    except InvalidLink:
        return render(request, "public/link_problem.html", _broken, status=400)
    return render(request, "public/request_verified.html", {"subject_request": subject_request})


@never_cache
@require_http_methods(["GET", "HEAD"])
def status(request: HttpRequest, token: str) -> HttpResponse:
    """Show the requester where their request stands."""
    try:
        subject_request = request_from_status_token(token)
    except InvalidLink:
        return render(request, "public/link_problem.html", _broken, status=400)
    activate_for_link(request, requester_language(subject_request))
    return render(request, "public/request_status.html", {"subject_request": subject_request})


@never_cache
@require_http_methods(["GET"])  # a HEAD must not count as the requester's download
def download(request: HttpRequest, token: str) -> HttpResponse:
    """Hand out an export through its signed link until it expires; each download is logged."""
    user = request.user
    staff = user if user.is_authenticated and user.is_staff else None
    try:
        export = open_export(token=token, staff=staff)
    except ExportForbidden:
        return render(request, "public/link_problem.html", _forbidden, status=403)
    except ExportExpired:
        return render(request, "public/link_problem.html", _expired, status=410)
    except ExportUnavailable:
        return render(request, "public/link_problem.html", _broken, status=400)
    return FileResponse(export.file.open("rb"), as_attachment=True, filename="my-personal-data.zip")
