"""Web activity after a tracked click: the visitor reference, the banner's choice, the beacon.

What the privacy statement promises: "when you click a link in a marketing e-mail you receive
from us, we will also use a cookie to log what pages you view and what content you download from
our websites". Nothing is stored on the visitor's device without their agreement (ePrivacy art.
5(3)), and refusing is as easy as accepting (GDPR art. 7(3)):

1. the click redirect appends a visitor reference (`crm_v`) to the destination, signed, valid
   `WEB_VISITOR_REFERENCE_SECONDS` and usable once, only for a person the sender may offer
   web-activity tracking (`privacy.consent.tracking.may_offer_web_activity`);
2. the script on the operator's page removes it from the address bar and shows the cookie banner;
   the choice is posted with the reference (`decide`): a refusal is a ledger event and stores
   nothing else; an acceptance is a ledger grant of `web_activity` with the banner's wording in
   the language shown, and returns the visitor value the script keeps in a first-party cookie;
3. each page view or download posts that value (`record_visit`), from a page of a listed domain
   only (`WEB_TRACKING_DOMAINS`), and takes the open pixel's path: one append to the hit buffer,
   written by the flush, which drops it unless the person may still be tracked.

A browser's Global Privacy Control (`Sec-GPC: 1`) is a refusal: nothing is read, recorded or
returned. The path is kept without its query string and the referrer as its domain only.
"""

import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from campaigns.models import Message, VisitorReference, WebVisit
from campaigns.tracking.buffers import Visit, hit_buffer
from campaigns.tracking.texts import banner_texts
from privacy.consent.ledger import RequestMetadata, record_consent
from privacy.consent.tracking import WEB_ACTIVITY
from privacy.models import ConsentEvent, ConsentState, Purpose

REFERENCE_PARAMETER = "crm_v"
REFERENCE_SALT = "campaigns.tracking.visitor-reference"
VISITOR_SALT = "campaigns.tracking.visitor"
ACCEPT, REFUSE = "accept", "refuse"
PLAIN_REFERENCE = re.compile(r"[0-9]{1,20}\.[A-Za-z0-9_-]{16}")


class VisitorRefused(Exception):
    """The request may record nothing: forged, expired or reused, unlisted page, or no consent."""


@dataclass(frozen=True)
class Visitor:
    """Whose visit it is (from the signed cookie value) and the campaign whose click began it."""

    contact_id: int
    campaign_id: int | None


def with_visitor_reference(url: str, *, message_id: int) -> str:
    """Return the link's address with a fresh signed visitor reference for this message.

    The reference is "<message id>.<nonce>" signed with its time: signing the two values as they
    are takes a quarter of the time of signing them as compressed JSON, on every tracked click.
    """
    reference = signing.TimestampSigner(salt=REFERENCE_SALT).sign(
        f"{message_id}.{secrets.token_urlsafe(12)}"
    )
    # Appended to the link as it was written (before its fragment), its own query left as it is.
    address, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in address else "?"
    parameter = f"{REFERENCE_PARAMETER}={quote(reference, safe='')}"
    return f"{address}{joiner}{parameter}{hash_mark}{fragment}"


def read_reference(reference: str) -> tuple[int, str]:
    """Return the message id and nonce of a visitor reference; raise BadSignature if not ours.

    A reference made before it was signed as plain values (signed compressed JSON, with the same
    salt) is still read while it is valid.
    """
    signer = signing.TimestampSigner(salt=REFERENCE_SALT)
    value = signer.unsign(reference, max_age=settings.WEB_VISITOR_REFERENCE_SECONDS)
    if PLAIN_REFERENCE.fullmatch(value):
        message_id, nonce = value.split(".")
        return int(message_id), nonce
    data = signing.loads(
        reference, salt=REFERENCE_SALT, max_age=settings.WEB_VISITOR_REFERENCE_SECONDS
    )
    return int(data["m"]), str(data["n"])[:32]


def listed_host(address: str) -> str:
    """Return the host of a page's address or origin when it is a listed domain, else ""."""
    host = (urlsplit(address).hostname or "").lower()
    listed = {domain.lower().lstrip(".") for domain in settings.WEB_TRACKING_DOMAINS}
    if host and any(host == domain or host.endswith(f".{domain}") for domain in listed):
        return host
    return ""


def gpc(request: HttpRequest) -> bool:
    """Say whether the browser sends the Global Privacy Control signal."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


def visitor_value(contact_id: int, campaign_id: int) -> str:
    """Return the signed value the visitor cookie keeps: whose visits, after which campaign."""
    return signing.dumps({"c": contact_id, "k": campaign_id}, salt=VISITOR_SALT)


def read_visitor(value: str) -> Visitor:
    """Return the visitor a cookie value names; raise VisitorRefused if forged or too old."""
    try:
        data = signing.loads(
            value, salt=VISITOR_SALT, max_age=settings.WEB_VISITOR_COOKIE_DAYS * 86400
        )
        return Visitor(contact_id=int(data["c"]), campaign_id=data.get("k"))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise VisitorRefused("Not a visitor of ours.") from exc


def _wording(choice: str, language: str) -> str:
    texts = banner_texts(language)
    if choice == ACCEPT:
        return f"{texts['text']} [{texts['accept']}]"
    return f"{texts['text']} [{texts['refuse']}]"


def decide(
    *,
    reference: str = "",
    visitor: str = "",
    choice: str,
    language: str,
    page: str,
    metadata: RequestMetadata,
) -> str:
    """Record the cookie banner's choice in the ledger; return the visitor value on acceptance.

    The first choice comes with the click's reference, which is then spent; a later change (the
    "cookie settings" link) comes with the visitor value and can only withdraw. Raise
    VisitorRefused, having recorded nothing, for a forged, expired or reused reference, a page
    of an unlisted domain or an unknown choice.
    """
    if choice not in (ACCEPT, REFUSE) or not listed_host(page):
        raise VisitorRefused("Not a choice of a listed page.")
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    purpose = Purpose.objects.filter(code=WEB_ACTIVITY, is_active=True).first()
    if purpose is None:
        raise VisitorRefused("Web activity is not a purpose in use.")
    if visitor:
        who = read_visitor(visitor)
        if choice == ACCEPT:
            raise VisitorRefused("A choice to accept comes with a click's reference.")
        _withdraw(contact_id=who.contact_id, purpose=purpose, language=language, metadata=metadata)
        return ""
    try:
        message_id, nonce = read_reference(reference)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise VisitorRefused("Forged or expired visitor reference.") from exc
    message = (
        Message.objects.filter(pk=message_id, contact__isnull=False)
        .select_related("contact", "campaign")
        .first()
    )
    if message is None:
        raise VisitorRefused("The reference's message is gone.")
    try:
        with transaction.atomic():
            VisitorReference.objects.create(nonce=nonce, used_at=timezone.now())
            action = ConsentEvent.Action.GRANT if choice == ACCEPT else ConsentEvent.Action.REFUSE
            record_consent(
                contact=message.contact,
                purpose=purpose,
                action=action,
                wording=_wording(choice, language),
                channel=ConsentEvent.Channel.COOKIE_BANNER,
                metadata=metadata,
            )
    except IntegrityError as exc:
        raise VisitorRefused("This visitor reference was used before.") from exc
    except ValidationError as exc:
        # An address that opted out of everything: no grant, and nothing else is stored.
        raise VisitorRefused("This person cannot be tracked.") from exc
    if choice == REFUSE:
        return ""
    return visitor_value(message.contact_id, message.campaign_id)


def _withdraw(
    *, contact_id: int, purpose: Purpose, language: str, metadata: RequestMetadata
) -> None:
    """Withdraw the visitor's web-activity consent if it is granted; nothing otherwise."""
    state = (
        ConsentState.objects.filter(contact_id=contact_id, purpose=purpose)
        .select_related("contact")
        .first()
    )
    if state is None or state.status != ConsentEvent.Action.GRANT:
        return
    record_consent(
        contact=state.contact,
        purpose=purpose,
        action=ConsentEvent.Action.WITHDRAW,
        wording=_wording(REFUSE, language),
        channel=ConsentEvent.Channel.COOKIE_BANNER,
        metadata=metadata,
    )


def record_visit(
    *, visitor: str, kind: str, page: str, title: str, referrer: str, origin: str
) -> None:
    """Buffer one page view or download of a visitor; raise VisitorRefused to record nothing.

    The page must be on a listed domain, and so must the origin the browser names; the visitor
    value must be ours. Whether the person may still be tracked is decided by the flush.
    """
    host = listed_host(page)
    if not host or (origin and not listed_host(origin)):
        raise VisitorRefused("Not a page of a listed domain.")
    if kind not in WebVisit.Kind.values:
        raise VisitorRefused("Not a kind of visit.")
    who = read_visitor(visitor)
    visit = Visit(
        contact_id=who.contact_id,
        campaign_id=who.campaign_id if isinstance(who.campaign_id, int) else None,
        kind=kind,
        host=host,
        path=(urlsplit(page).path or "/")[:500],
        title=" ".join(title.split())[:200],
        referrer_domain=(urlsplit(referrer).hostname or "")[:253] if referrer else "",
        at=time.time(),
    )
    hit_buffer().append(visit.encode())
