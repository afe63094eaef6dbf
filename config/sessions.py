"""Staff sessions end after an idle spell and at an absolute age, whatever the cookie says.

`SESSION_COOKIE_AGE` bounds the whole session from login; `SESSION_IDLE_TIMEOUT` ends it after
that long without a request. Both are checked on the server, against times kept in the session
itself, so a copied cookie is no use once either has passed. The last-seen time is written at most
once a minute, so busy pages do not rewrite the session on every request.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

STARTED_KEY = "session_started_at"
SEEN_KEY = "session_seen_at"
SEEN_RESOLUTION = 60


def start_session_clock(sender, request, user, **kwargs) -> None:
    """Note when a session began (connected to `user_logged_in`): both limits count from it."""
    now = time.time()
    request.session[STARTED_KEY] = now
    request.session[SEEN_KEY] = now


def session_expired(session, *, now: float) -> bool:
    """Say whether a session has been idle too long or has outlived its absolute age."""
    started = session.get(STARTED_KEY, now)
    seen = session.get(SEEN_KEY, now)
    return now - seen > settings.SESSION_IDLE_TIMEOUT or now - started > settings.SESSION_COOKIE_AGE


class SessionExpiryMiddleware:
    """Log out a signed-in user whose session expired; otherwise note the time of this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            if session_expired(session, now=now):
                logout(request)
                messages.info(request, "Your session expired. Please log in again.")
            else:
                # A session from before these limits existed starts its clock now.
                session.setdefault(STARTED_KEY, now)
                if now - session.get(SEEN_KEY, 0) >= SEEN_RESOLUTION:
                    session[SEEN_KEY] = now
        return self.get_response(request)
