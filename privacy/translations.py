"""Wording the public sees, in the reader's language (GDPR art. 7(2), 12(1)).

A purpose's name, description and consent sentence, a statement version, a retention rule's
reason and a public register entry are written by staff in English (the model's own field) and
in each other language of the site (`translations`: {language: {field: text}}). A page shows the
reader's language and falls back to English while a translation is missing, so the page never
breaks; publishing a statement version, or offering a consent purpose on the public forms, is
refused until every language has its text, so nobody agrees to a sentence they cannot read.
"""

from django.conf import settings
from django.db import models
from django.utils import translation


def other_languages() -> list[str]:
    """Return the site's languages besides English, whose wording is kept in `translations`."""
    return [code for code, _ in settings.LANGUAGES if code != "en"]


def reader_language(language: str | None = None) -> str:
    """Return the site language a text is shown in: the one given, else the active one."""
    code = (language or translation.get_language() or "en").split("-")[0].lower()
    return code if code in {c for c, _ in settings.LANGUAGES} else "en"


def translated(obj: models.Model, field: str, language: str | None = None) -> str:
    """Return the field's text in the reader's language, English while it is missing."""
    code = reader_language(language)
    if code != "en":
        text = (getattr(obj, "translations", None) or {}).get(code, {}).get(field, "")
        if text.strip():
            return text
    return getattr(obj, field)


def missing_translations(obj: models.Model, fields: tuple[str, ...]) -> list[str]:
    """Return `language: field` for every filled English field without its translation."""
    texts = obj.translations or {}
    return [
        f"{code}: {field}"
        for code in other_languages()
        for field in fields
        if getattr(obj, field).strip() and not texts.get(code, {}).get(field, "").strip()
    ]
