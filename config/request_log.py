"""Request ids and one log record per request: method, route, status and duration, no personal data.

Every record logged while a request is handled carries that request's id (taken from a well-formed
`X-Request-ID` set by the proxy, else generated), and the id goes back in the response header, so
an operator can follow one request through the proxy's, the web's and the database's logs. The
path is logged without its query string, which is where searches for people's names and
addresses travel; tokens and addresses left in the path are masked by `config.log_filters`.

A refused request (a 4xx answer to a denied permission, a failed CSRF check, a bad request) is one
line: Django's own warning about it, logged with a traceback while the request is still being
handled, is folded into the request's line as its reason ("GET /admin/x/ 403 Forbidden
(Permission denied)"). A refusal is the client's doing, not a fault to debug.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
# Why the request being handled was refused, and whether its line was written already.
refusal_reason: ContextVar[str] = ContextVar("refusal_reason", default="")
request_logged: ContextVar[bool] = ContextVar("request_logged", default=False)
REFUSING_LOGGERS = ("django.request", "django.security")
logger = logging.getLogger("config.request")


class AddRequestContext(logging.Filter):
    """Put the id of the request being handled (empty outside one) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


class RequestLogMiddleware:
    """Give each request an id and log its method, path, status and duration when it is done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if WELL_FORMED_ID.match(offered) else uuid.uuid4().hex
        # Kept until the response is closed (`forget_request_id`): Django logs 4xx and 5xx answers
        # after the middleware has returned, and those records belong to this request too.
        current_request_id.set(request_id)
        refusal_reason.set("")
        request_logged.set(False)
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request_id
        reason = refusal_reason.get()
        logger.info(
            "%s %s %s%s",
            request.method,
            request.path,
            response.status_code,
            f" {reason}" if reason else "",
            extra={"status": response.status_code, "duration_ms": duration_ms},
        )
        request_logged.set(True)
        return response


class OneLineRefusals(logging.Filter):
    """Fold Django's warning about a refused request into the request's line, without traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not (isinstance(status, int) and 400 <= status < 500):
            return True
        if not record.name.startswith(REFUSING_LOGGERS):
            return True
        record.exc_info = record.exc_text = record.stack_info = None
        if not current_request_id.get() or request_logged.get():
            return True
        message = record.getMessage()
        path = getattr(getattr(record, "request", None), "path", "")
        if path and message.endswith(f": {path}"):
            message = message.removesuffix(f": {path}")
        refusal_reason.set(message)
        return False


def forget_request_id(**kwargs) -> None:
    """Clear the request id once the response is closed (connected to `request_finished`)."""
    current_request_id.set("")
