"""Refuse webhook addresses that point inside our own network (server-side request forgery).

A webhook URL is typed by staff or an integrator, and the worker then makes requests to it from
inside the production network: without a guard, `http://10.0.0.5/admin` or the cloud metadata
address would be reachable through the CRM. Every address the host name resolves to must be a
public (globally routable) one, checked when the endpoint is saved and again before each
delivery, since DNS answers change. Loopback is allowed only when `WEBHOOK_ALLOW_LOOPBACK` is on
(the embedded default and the tests); plain `http` only for such a loopback receiver.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


class UnsafeAddress(ValidationError):
    """The URL is not a public https address the worker may call."""


def check_webhook_url(url: str) -> None:
    """Raise UnsafeAddress unless every address of the URL's host is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeAddress("Give a full https:// address.", code="scheme")
    if parts.username or parts.password:
        raise UnsafeAddress("Put no user name or password in the address.", code="credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError) as exc:
        raise UnsafeAddress("The host name does not resolve.", code="unresolved") from exc
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in found}
    loopback = all(address.is_loopback for address in addresses)
    if loopback and settings.WEBHOOK_ALLOW_LOOPBACK:
        return
    refused = sorted(str(a) for a in addresses if not a.is_global or a.is_multicast)
    if refused:
        raise UnsafeAddress(
            f"The address points into a private, loopback or reserved network ({refused[0]}): "
            "webhooks go to public addresses only.",
            code="private",
        )
    if parts.scheme != "https":
        raise UnsafeAddress("Use https: events must not travel unencrypted.", code="scheme")
