"""The API's one exception handler: domain validation errors become 400s with field errors.

Kept apart from `core.api` because DRF imports permission classes while `rest_framework.views` is
still loading, and this module needs that module.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from core.api import AddressRateThrottle


def exception_handler(exc, context):
    """Answer domain validation errors as 400 with field errors, like serializer errors.

    A refused login (no or a wrong token) counts against the client address's limit, which DRF
    checks only after authentication: past it, the answer is 429, so tokens cannot be guessed at
    speed.
    """
    existing = getattr(exc, "existing", None)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = dict(exc.message_dict)
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        throttle = AddressRateThrottle()
        if not throttle.allow_request(context["request"], context["view"]):
            exc = exceptions.Throttled(wait=throttle.wait())
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.Throttled):
        response.data["retry_after"] = int(response.headers.get("Retry-After", 0))
    if response is not None and existing is not None:
        # A duplicate points at the record that already holds the address.
        response.data["existing_contact"] = {
            "id": existing.pk,
            "url": reverse("api:contact-detail", args=[existing.pk]),
        }
    return response
