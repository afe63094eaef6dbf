"""The `tr` filter: a model's public wording in the reader's language (privacy.translations)."""

from django import template

from privacy.translations import translated

register = template.Library()


@register.filter
def tr(obj, field: str) -> str:
    """Return `obj.<field>` in the active language, English while the translation is missing."""
    return translated(obj, field)
