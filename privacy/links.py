"""Signed links for the public: subscription confirmation, preference centre, unsubscribe, and
the verification and status links of a data-subject request.

Each kind has its own salt, so a token of one kind never works as another. Confirmation links
expire (`SUBSCRIBE_LINK_MAX_AGE`), and so do request verification links
(`REQUEST_VERIFY_MAX_AGE`, checked by `privacy.requests.subject_requests.verify_request`, which
also makes them single-use); preference and unsubscribe links do not, because an opt-out must
keep working from any e-mail we ever sent (RFC 8058; GDPR art. 7(3): withdrawing is as easy as
consenting). Tokens carry ids and purpose codes, never an address in clear: the confirmation
token carries the address it confirms, which is the person's own and only in their own inbox
(and, until the worker has mailed it, in the queued task that carries the token there).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from crm.models import Client, Contact
from privacy.models import SubjectExport, SubjectRequest

SUBSCRIBE_SALT = "privacy.subscribe"
PREFERENCES_SALT = "privacy.preferences"
UNSUBSCRIBE_SALT = "privacy.unsubscribe"
VERIFY_SALT = "privacy.request-verify"
STATUS_SALT = "privacy.request-status"
DOWNLOAD_SALT = "privacy.export-download"


class InvalidLink(Exception):
    """The link was tampered with, cut short, or belongs to something else."""


class ExpiredLink(Exception):
    """The link was genuine but is too old."""


@dataclass(frozen=True)
class SubscriptionRequest:
    """What a confirmation link confirms: an address, a name, purposes and the notice shown."""

    email: str
    name: str
    purposes: tuple[str, ...]
    notice_version: str
    wording_digest: str
    language: str


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Whose opt-out a link carries, and from which sender (None: from us)."""

    contact_id: int
    client_id: int | None


@dataclass(frozen=True)
class VerificationLink:
    """Which request a verification link proves, and the one-time nonce it was made with."""

    request_id: int
    nonce: str


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def subscription_token(request: SubscriptionRequest) -> str:
    """Return the signed token of a pending subscription."""
    payload = {
        "e": request.email,
        "n": request.name,
        "p": list(request.purposes),
        "v": request.notice_version,
        "w": request.wording_digest,
        "l": request.language,
    }
    return signing.dumps(payload, salt=SUBSCRIBE_SALT, compress=True)


def read_subscription_token(token: str) -> SubscriptionRequest:
    """Return the pending subscription; raise ExpiredLink or InvalidLink."""
    try:
        data = signing.loads(token, salt=SUBSCRIBE_SALT, max_age=settings.SUBSCRIBE_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ExpiredLink from exc
    except signing.BadSignature as exc:
        raise InvalidLink from exc
    try:
        return SubscriptionRequest(
            email=data["e"],
            name=data["n"],
            purposes=tuple(data["p"]),
            notice_version=data["v"],
            wording_digest=data["w"],
            language=data["l"],
        )
    except (KeyError, TypeError) as exc:
        raise InvalidLink from exc


def confirmation_url(token: str) -> str:
    """Return the absolute URL that confirms a subscription."""
    return _absolute(reverse("subscribe-confirm", args=[token]))


def preferences_token(contact: Contact) -> str:
    """Return the signed token of a contact's preference centre."""
    return signing.dumps(contact.pk, salt=PREFERENCES_SALT)


def read_preferences_token(token: str) -> int:
    """Return the contact id of a preference-centre token; raise InvalidLink."""
    try:
        return int(signing.loads(token, salt=PREFERENCES_SALT))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise InvalidLink from exc


def preferences_url(contact: Contact) -> str:
    """Return the absolute URL of the contact's preference centre."""
    return _absolute(reverse("preferences", args=[preferences_token(contact)]))


def unsubscribe_token(contact: Contact, client: Client | None = None) -> str:
    """Return the signed token that unsubscribes the contact from one sender's e-mails."""
    return signing.dumps([contact.pk, client.pk if client else None], salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> UnsubscribeTarget:
    """Return whose opt-out the token carries; raise InvalidLink."""
    try:
        contact_id, client_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return UnsubscribeTarget(
            contact_id=int(contact_id), client_id=None if client_id is None else int(client_id)
        )
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise InvalidLink from exc


def unsubscribe_url(contact: Contact, client: Client | None = None) -> str:
    """Return the absolute one-click unsubscribe URL for e-mails from `client` (None: us)."""
    return _absolute(reverse("unsubscribe", args=[unsubscribe_token(contact, client)]))


def verification_token(request: SubjectRequest) -> str:
    """Return the signed token that proves the requester holds the request's address."""
    return signing.dumps([request.pk, request.verification_nonce], salt=VERIFY_SALT)


def read_verification_token(token: str, *, max_age: int | None = None) -> VerificationLink:
    """Return the request and nonce of a verification token; raise ExpiredLink or InvalidLink.

    Without `max_age` the token's age is not checked (to pick the language of an expired link).
    """
    try:
        request_id, nonce = signing.loads(token, salt=VERIFY_SALT, max_age=max_age)
        return VerificationLink(request_id=int(request_id), nonce=str(nonce))
    except signing.SignatureExpired as exc:
        raise ExpiredLink from exc
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise InvalidLink from exc


def verification_url(request: SubjectRequest) -> str:
    """Return the absolute URL that verifies a request (single-use and expiring, see above)."""
    return _absolute(reverse("privacy-request-verify", args=[verification_token(request)]))


def status_token(request: SubjectRequest) -> str:
    """Return the signed token of the requester's status page."""
    return signing.dumps(request.pk, salt=STATUS_SALT)


def read_status_token(token: str) -> int:
    """Return the request id of a status token; raise InvalidLink."""
    try:
        return int(signing.loads(token, salt=STATUS_SALT))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise InvalidLink from exc


def status_url(request: SubjectRequest) -> str:
    """Return the absolute URL where the requester follows the request."""
    return _absolute(reverse("privacy-request-status", args=[status_token(request)]))


def download_token(export: SubjectExport) -> str:
    """Return the signed token of an access export's download link (its expiry is the export's)."""
    return signing.dumps(export.pk, salt=DOWNLOAD_SALT)


def read_download_token(token: str) -> int:
    """Return the export id of a download token; raise InvalidLink."""
    try:
        return int(signing.loads(token, salt=DOWNLOAD_SALT))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise InvalidLink from exc


def download_url(export: SubjectExport) -> str:
    """Return the absolute, signed link to download the export until it expires."""
    return _absolute(reverse("privacy-export-download", args=[download_token(export)]))
