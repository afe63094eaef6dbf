"""Template helpers of the public forms: widgets that tell assistive technology about errors."""

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


def described_by(field: BoundField) -> str:
    """Return the ids of the help text and the errors that describe `field`, space-separated."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-help")
    if field.errors:
        ids.append(f"{field.auto_id}-errors")
    return " ".join(ids)


@register.simple_tag
def accessible_widget(field: BoundField) -> SafeString:
    """Render the widget pointing at its help and error texts, and marked invalid on error."""
    attrs = {}
    if ids := described_by(field):
        attrs["aria-describedby"] = ids
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def field_described_by(field: BoundField) -> str:
    """Return the aria-describedby value for a group of boxes (a fieldset)."""
    return described_by(field)
