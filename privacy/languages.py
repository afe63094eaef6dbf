"""Which language a data subject is spoken to in: e-mails and the pages their personal links open.

The rule, in order: a language the visitor picked with the switcher on a public page (Django's
language cookie); the contact's own language (`Contact.language`), or for a request from an
address we do not know, the language its form was filled in; the browser's Accept-Language
(LocaleMiddleware); English. E-mails cannot see a browser, so they use the contact's language, then
the language the person used on our site, then English. Staff pages are always in English.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from crm.models import Contact
from privacy.models import SubjectRequest


def supported_language(code: str | None) -> str | None:
    """Return `code` (or its base language) when the site offers it, else None."""
    if not code:
        return None
    offered = {language for language, _name in settings.LANGUAGES}
    for candidate in (code.lower(), code.lower().split("-")[0]):
        if candidate in offered:
            return candidate
    return None


def contact_language(contact: Contact | None) -> str | None:
    """Return the language to write to this contact in, or None when they have none we offer."""
    return supported_language(contact.language) if contact is not None else None


def requester_language(request: SubjectRequest) -> str:
    """Return the language for the mails of a data-subject request: contact's, form's, English."""
    return (
        contact_language(request.contact)
        or supported_language(request.language)
        or settings.LANGUAGE_CODE
    )


def activate_for_link(request: HttpRequest, language: str | None) -> None:
    """Speak the link's owner's language on this page, unless the visitor picked one themselves."""
    chosen = supported_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    language = supported_language(language)
    if chosen or not language:
        return
    translation.activate(language)
    request.LANGUAGE_CODE = language
