"""The `operations_url` tag: the operations page's address, for administrators only."""

from django import template
from django.urls import reverse

from privacy.staff.roles import is_administrator

register = template.Library()


@register.simple_tag(takes_context=True)
def operations_url(context: template.Context) -> str:
    """Return the operations page's address when the request's user may open it, else ""."""
    request = context.get("request")
    if request is None or not is_administrator(request.user):
        return ""
    return reverse("operations")
