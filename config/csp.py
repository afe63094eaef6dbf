"""Content-Security-Policy on every response: scripts and styles only from our own static files.

No page of ours runs inline script, so `script-src 'self'` holds everywhere and an injected
`<script>` or `onclick=` does nothing; inline styles are refused too. The one exception is the API
docs, which allow inline *styles* (never scripts): Swagger UI writes `style` attributes from its
own code, and a style cannot run code. Forms may only post to this site and no other site may
frame a page (clickjacking).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
API_DOCS_POLICY = {**BASE_POLICY, "style-src": "'self' 'unsafe-inline'"}
API_DOCS_PATH = "/api/docs/"


def policy_header(directives: dict[str, str]) -> str:
    """Return the header value for a directive table."""
    return "; ".join(f"{name} {value}" for name, value in directives.items())


HEADER = policy_header(BASE_POLICY)
API_DOCS_HEADER = policy_header(API_DOCS_POLICY)


class ContentSecurityPolicyMiddleware:
    """Add the policy to every response that does not already carry one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        docs = request.path_info == API_DOCS_PATH
        response.headers.setdefault("Content-Security-Policy", API_DOCS_HEADER if docs else HEADER)
        return response
