"""The administrators' operations page: the machinery's state from `config.operations`."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.operations import operations_report
from privacy.staff.roles import is_administrator


@never_cache
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    """Show queues, periodic tasks, the outbox and failures; refuse anyone but administrators."""
    if not is_administrator(request.user):
        raise PermissionDenied("Only administrators see the operations page.")
    report = operations_report()
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "report": report,
    }
    return render(request, "admin/operations.html", context)
