"""The `privacy_dashboard` tag: the privacy dashboard of the user reading the admin index."""

from django import template

from privacy.accountability.dashboard import Dashboard, dashboard_for

register = template.Library()


@register.simple_tag(takes_context=True)
def privacy_dashboard(context: template.Context) -> Dashboard | None:
    """Return the dashboard blocks the request's user may see; None outside a request."""
    request = context.get("request")
    if request is None:
        return None
    return dashboard_for(request.user)
