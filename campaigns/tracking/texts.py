"""The cookie banner's words in every language of the site, from the CRM's own catalogues."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def banner_texts(language: str) -> dict[str, str]:
    """Return the banner's texts in one language; the accepted wording is stored as proof."""
    with translation.override(language):
        return {
            "label": gettext("Cookies on this website"),
            "text": gettext(
                "You came here from a link in our e-mail. May we keep a cookie on this site to "
                "record which pages you view and which files you download, linked to your "
                "contact record? Nothing is stored if you refuse."
            ),
            "accept": gettext("Accept"),
            "refuse": gettext("Refuse"),
            "choose": gettext("Choose"),
            "option": gettext("Pages I view and files I download"),
            "save": gettext("Save my choice"),
            "settings": gettext("Cookie settings"),
            "withdraw": gettext("Stop recording my visits"),
            "privacy": gettext("Privacy statement"),
        }


def all_banner_texts() -> dict[str, dict[str, str]]:
    """Return the banner's texts in every language the site offers, by language code."""
    return {code: banner_texts(code) for code, _ in settings.LANGUAGES}
