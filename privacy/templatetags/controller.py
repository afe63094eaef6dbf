"""The `controller_footer` tag: who is responsible and whom to ask, at the foot of every mail."""

from django import template

from privacy.accountability.controller import controller, controller_footer

register = template.Library()


@register.simple_tag
def footer_lines() -> str:
    """Return the controller's footer lines in the active language (plain text)."""
    return controller_footer()


@register.simple_tag
def controller_identity():
    """Return the controller's identity for a page to lay out."""
    return controller()
