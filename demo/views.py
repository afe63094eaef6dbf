"""Putting the first-run tour away and bringing it back (staff, from the admin's home page)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from demo.tour import dismiss_tour, reopen_tour


@require_POST
def dismiss(request: HttpRequest) -> HttpResponse:
    """Put the tour away for this member of staff and go back to the home page."""
    dismiss_tour(user=request.user)
    return redirect("admin:index")


@require_POST
def reopen(request: HttpRequest) -> HttpResponse:
    """Show the tour again and go back to the home page."""
    reopen_tour(user=request.user)
    return redirect("admin:index")
