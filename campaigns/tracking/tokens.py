"""The signed click token: which message and link a click is of, read with no query.

The token is made when the mail is sent and carries the message's own token, the message id, the
link id and whether a visitor reference may be offered after the click (decided with the
tracking). It is signed with an HMAC keyed from `SECRET_KEY`, so a click needs no database to be
checked: a tampered or forged token reads as None and redirects nowhere.
"""

from dataclasses import dataclass

from django.core import signing

SALT = "campaigns.tracking.click"
SEPARATOR = "."


@dataclass(frozen=True)
class ClickToken:
    """What a signed click URL says: the message (token and id), the link, web activity offered."""

    token: str
    message_id: int
    link_id: int
    offers_web: bool


def _signer() -> signing.Signer:
    """Return the signer of click tokens (HMAC-SHA256, key from settings, URL-safe)."""
    return signing.Signer(salt=SALT, sep=SEPARATOR, algorithm="sha256")


def click_token(*, token: str, message_id: int, link_id: int, offers_web: bool) -> str:
    """Return the compact signed value of one message's click on one link."""
    fields = [
        token,
        signing.b62_encode(message_id),
        signing.b62_encode(link_id),
        "1" if offers_web else "0",
    ]
    return _signer().sign(SEPARATOR.join(fields))


def read_click_token(value: str) -> ClickToken | None:
    """Return what a signed click value says, or None when it is not one of ours."""
    try:
        token, message_id, link_id, web = _signer().unsign(value).split(SEPARATOR)
        return ClickToken(
            token=token,
            message_id=signing.b62_decode(message_id),
            link_id=signing.b62_decode(link_id),
            offers_web=web == "1",
        )
    except (signing.BadSignature, ValueError):
        return None
