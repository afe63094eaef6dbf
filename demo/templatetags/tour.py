"""The `first_run_tour` tag: the tour of the member of staff reading the admin's home page."""

from django import template

from demo.tour import Tour, tour_for

register = template.Library()


@register.simple_tag(takes_context=True)
def first_run_tour(context: template.Context) -> Tour | None:
    """Return the tour of the request's user; None outside a request or without demo data."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    tour = tour_for(request.user)
    return tour if tour.steps else None
