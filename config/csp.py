"""Content-Security-Policy on every response: scripts and styles only from our own static files.

No page of ours runs inline script, so `script-src 'self'` holds everywhere and an injected
`<script>` or `onclick=` does nothing. Public pages also refuse inline styles. The admin and the
API docs allow inline *styles* only: Django's admin widgets and Swagger UI set `style` attributes
from their own code, and a style cannot run code. Forms may only post to this site and no other
site may frame a page (clickjacking).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.locale import STAFF_PREFIXES

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # Swagger UI and the admin draw a few icons from data: URLs.
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
STAFF_POLICY = {**BASE_POLICY, "style-src": "'self' 'unsafe-inline'"}


def policy_header(directives: dict[str, str]) -> str:
    """Return the header value for a directive table."""
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PUBLIC_HEADER = policy_header(BASE_POLICY)
STAFF_HEADER = policy_header(STAFF_POLICY)


class ContentSecurityPolicyMiddleware:
    """Add the policy to every response that does not already carry one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        staff = request.path_info.startswith(STAFF_PREFIXES)
        response.headers.setdefault(
            "Content-Security-Policy", STAFF_HEADER if staff else PUBLIC_HEADER
        )
        return response
