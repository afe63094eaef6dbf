"""Two-factor login (TOTP) for the staff who can see and change the most (GDPR art. 32).

Privacy officers and administrators (superusers count as administrators) must prove a second
factor after their password: a six-digit code from an authenticator app (RFC 6238), or one of ten
single-use recovery codes issued when they enrol. Until they do, the admin and the API answer them
with the two-factor page (or a 403 in the API) and nothing else. Someone without a device enrols
at their next login: the app is set up from a QR code or the secret shown as text, and one code
from it confirms the device. Marketing and Support log in with a password only.

Devices are django-otp's: the TOTP secret is stored in the database like a password hash would be,
and recovery codes are deleted as they are used. Each verification, failed code and enrolment is
written to the audit trail; failed codes count against the account's login lock-out.
"""

import io
from base64 import b32encode
from urllib.parse import quote

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from core.audit import record_login
from privacy.staff.login_lockout import clear_account_failures, record_failed_login
from privacy.staff.roles import TWO_FACTOR_ROLES

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def requires_two_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Say whether this member of staff must log in with a second factor."""
    if not (user.is_authenticated and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name__in=TWO_FACTOR_ROLES).exists()


def is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Say whether this session's user proved a second factor (OTPMiddleware sets it)."""
    return bool(getattr(user, "otp_device", None))


def enrolled_device(user: AbstractBaseUser) -> TOTPDevice | None:
    """Return the user's confirmed authenticator-app device, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: AbstractBaseUser) -> TOTPDevice:
    """Return the device being enrolled, creating it (with a new secret) on the first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def qr_code_svg(device: TOTPDevice) -> bytes:
    """Return the device's provisioning URI as an SVG QR code for authenticator apps."""
    out = io.BytesIO()
    write_qrcode_image(device.config_url, out)
    return out.getvalue()


def secret_text(device: TOTPDevice) -> str:
    """Return the device's secret in base32, grouped by four, for typing into an app by hand."""
    encoded = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def issue_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes with new single-use ones and return them (shown once)."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def confirm_enrolment(*, request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending device with its app's code; return new recovery codes, or None if wrong.

    A right code also marks the session verified; a wrong one counts as a failed login.
    """
    user = request.user
    if device.user_id != user.pk or not device.verify_token(_digits(code)):
        record_failed_login(username=user.get_username(), request=request)
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = issue_recovery_codes(user)
        record_login(user=user, succeeded=True, details={"second_factor": "enrolled"})
    _verify_session(request, device)
    return codes


def verify_second_factor(*, request: HttpRequest, code: str) -> bool:
    """Check a code from the app or a recovery code; on success mark the session verified."""
    user = request.user
    device = _matching_device(user, code)
    if device is None:
        record_failed_login(username=user.get_username(), request=request)
        return False
    kind = "recovery_code" if isinstance(device, StaticDevice) else "totp"
    record_login(user=user, succeeded=True, details={"second_factor": kind})
    clear_account_failures(username=user.get_username(), request=request)
    _verify_session(request, device)
    return True


def _verify_session(request: HttpRequest, device: Device) -> None:
    # A new session key once the login is complete: one seen before the second factor is worth
    # nothing after it.
    request.session.cycle_key()
    otp_login(request, device)


def _digits(code: str) -> str:
    return "".join(code.split())


def _matching_device(user: AbstractBaseUser, code: str) -> Device | None:
    token = _digits(code).lower()
    # Six digits are an app's code; anything else can only be a recovery code.
    models = (TOTPDevice, StaticDevice) if len(token) == 6 and token.isdigit() else (StaticDevice,)
    with transaction.atomic():
        for model in models:
            for device in model.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(token):
                    return device
    return None


class TwoFactorRequiredMiddleware:
    """Send staff who need a second factor, and have not given it, to the two-factor page.

    Only the login, logout and two-factor pages of the admin stay open to them; the API answers
    such a session 403. Token-authenticated API clients are not sessions and are not affected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        path = request.path_info
        if (
            path.startswith(("/admin/", "/api/"))
            and user.is_authenticated
            and not is_verified(user)
            and not path.startswith(_open_paths())
            and requires_two_factor(user)
        ):
            if path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Log in to the admin with your second factor first."}, status=403
                )
            return redirect(f"{reverse('two-factor')}?next={quote(request.get_full_path())}")
        return self.get_response(request)


def _open_paths() -> tuple[str, ...]:
    return (reverse("admin:login"), reverse("admin:logout"), reverse("two-factor"))
