"""What every API view shares: staff-only permissions, cursor pagination and throttling."""

import logging

from rest_framework import pagination, permissions, serializers, throttling

from core.ratelimit import address_digest

logger = logging.getLogger(__name__)


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff users with the model's Django permissions, viewing included."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff) and super().has_permission(
            request, view
        )


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Stable pages over large tables without counting them."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500


class _FailOpen:
    """Let the request through, and log it, when the cache holding the counters is unreachable."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            # Any backend's connection error: throttling is a guard, answering comes first.
            logger.warning("API throttle %s not applied: the cache is unreachable", self.scope)
            return True


class AccountRateThrottle(_FailOpen, throttling.UserRateThrottle):
    """Requests per staff account, by token or session: `API_RATE_PER_ACCOUNT`."""

    scope = "account"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class AddressRateThrottle(_FailOpen, throttling.AnonRateThrottle):
    """Anonymous requests per client address (failed logins included): `API_RATE_PER_ADDRESS`."""

    scope = "address"

    def get_ident(self, request):
        # The same trusted-proxy reading as the public forms, and a digest rather than the address.
        return address_digest(request)


class CodeRelatedField(serializers.SlugRelatedField):
    """A related object named by its code: a value no code can be is refused before any query.

    A NUL character in a lookup makes PostgreSQL refuse the whole statement (SQLite lets it
    through); refused here, it is a 400 naming the field on both.
    """

    default_error_messages = {
        **serializers.SlugRelatedField.default_error_messages,
        "invalid_code": "Not a valid code: it holds a control character.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and any(ord(char) < 32 for char in data):
            self.fail("invalid_code")
        return super().to_internal_value(data)
