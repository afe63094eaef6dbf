"""Who is responsible, and whom to ask (GDPR art. 13(1)(a)-(b), 14(1)(a)-(b), 77).

The controller's identity and address, the data protection officer or privacy contact, and the
supervisory authority people may complain to are settings (`CONTROLLER_NAME`,
`CONTROLLER_ADDRESS`, `PRIVACY_CONTACT`, `SUPERVISORY_AUTHORITY`), shown on the public privacy
page, in the art. 14 notice and in the footer of every e-mail to data subjects. `privacy_check`
fails while one is blank in production; the embedded default leaves them to the operator.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

SETTINGS = ("CONTROLLER_NAME", "CONTROLLER_ADDRESS", "PRIVACY_CONTACT", "SUPERVISORY_AUTHORITY")


@dataclass(frozen=True)
class Controller:
    """The controller's public identity, as settings give it (blank when not configured)."""

    name: str
    address: str
    privacy_contact: str
    supervisory_authority: str


def controller() -> Controller:
    """Return the controller's identity, privacy contact and supervisory authority."""
    return Controller(
        name=settings.CONTROLLER_NAME,
        address=settings.CONTROLLER_ADDRESS,
        privacy_contact=settings.PRIVACY_CONTACT,
        supervisory_authority=settings.SUPERVISORY_AUTHORITY,
    )


def missing_controller_settings() -> list[str]:
    """Return the controller settings left blank (a failure of the privacy check in production)."""
    return [name for name in SETTINGS if not getattr(settings, name).strip()]


def controller_footer() -> str:
    """Return the footer lines of an e-mail to a data subject, in the active language."""
    who = controller()
    lines = [
        (gettext("Controller: %(who)s") % {"who": ", ".join(filter(None, (who.name, who.address)))})
        if who.name or who.address
        else "",
        gettext("Privacy questions: %(contact)s") % {"contact": who.privacy_contact}
        if who.privacy_contact
        else "",
        gettext("Supervisory authority: %(authority)s") % {"authority": who.supervisory_authority}
        if who.supervisory_authority
        else "",
    ]
    return "\n".join(line for line in lines if line)
