"""Test helpers for two-factor login: a confirmed device, its current code, a verified session."""

from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_device(user) -> TOTPDevice:
    """Return the user's confirmed authenticator-app device, enrolling one if needed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """Return the six-digit code the device's app shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def mark_verified(client: ClientMixin, user) -> None:
    """Mark the client's session as having passed the second factor with the user's device."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
    session.save()
