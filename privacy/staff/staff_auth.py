"""The admin's login steps: the password form with the lock-out, then the second factor.

Views parse the request and call `privacy.staff.login_lockout` and `privacy.staff.two_factor`,
which do the work and write the audit trail.
"""

import math

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from privacy.staff.login_lockout import refuse_if_locked
from privacy.staff.two_factor import (
    confirm_enrolment,
    enrolled_device,
    is_verified,
    issue_recovery_codes,
    pending_device,
    qr_code_svg,
    requires_two_factor,
    secret_text,
    verify_second_factor,
)


def lockout_message(seconds: int) -> str:
    """Say that logins are locked, and for how many minutes, without saying for which account."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed logins for this account or from this address. "
        "Try again in %(minutes)d minute.",
        "Too many failed logins for this account or from this address. "
        "Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class LockoutAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, refusing every attempt while the account or address is locked."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        seconds = refuse_if_locked(username=username, request=self.request)
        if seconds:
            raise ValidationError(lockout_message(seconds), code="locked")
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("admin:index")


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (first login) or ask for a code (every login)."""
    user = request.user
    if not requires_two_factor(user) or is_verified(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    device = enrolled_device(user)
    enrolling = device is None
    if enrolling:
        device = pending_device(user)
    seconds = 0
    if request.method == "POST":
        seconds = refuse_if_locked(username=user.get_username(), request=request)
    if request.method == "POST" and not seconds and form.is_valid():
        code = form.cleaned_data["code"]
        if enrolling:
            codes = confirm_enrolment(request=request, device=device, code=code)
            if codes is not None:
                context = {
                    **admin.site.each_context(request),
                    "codes": codes,
                    "next": _next_url(request),
                }
                return render(request, "admin/two_factor_recovery_codes.html", context)
        elif verify_second_factor(request=request, code=code):
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not right, or it was used already."))
    if seconds:
        form.add_error(None, lockout_message(seconds))
    context = {
        # The admin's own header and title (the product's name), as on every other staff page.
        **admin.site.each_context(request),
        "form": form,
        "enrolling": enrolling,
        "secret": secret_text(device) if enrolling else "",
        "next": _next_url(request),
        "title": _("Two-factor login"),
    }
    return render(request, "admin/two_factor.html", context, status=403 if seconds else 200)


@never_cache
@require_http_methods(["GET"])
def two_factor_qr(request: HttpRequest) -> HttpResponse:
    """Serve the QR code of the device being enrolled, as an SVG image."""
    user = request.user
    if not requires_two_factor(user) or enrolled_device(user) is not None:
        return HttpResponse(status=404)
    return HttpResponse(qr_code_svg(pending_device(user)), content_type="image/svg+xml")


@never_cache
@require_http_methods(["GET", "POST"])
def new_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Offer (GET), then make (POST) new recovery codes for a verified user, shown once."""
    if not (requires_two_factor(request.user) and is_verified(request.user)):
        return redirect("two-factor")
    codes = issue_recovery_codes(request.user) if request.method == "POST" else []
    context = {
        **admin.site.each_context(request),
        "codes": codes,
        "next": reverse("admin:index"),
        "title": _("Recovery codes"),
    }
    return render(request, "admin/two_factor_recovery_codes.html", context)
