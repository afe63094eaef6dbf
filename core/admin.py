"""Admin pieces every app shares, and the screens of the ground floor's own tables.

`ReadOnlyAdmin` is the one admin of an append-only record; `EstimatedCountPaginator` pages a big
table without an exact `COUNT(*)`; `form_page` is the skeleton of every custom admin page whose
form calls a service. The audit trail and the task outbox are registered here.
"""

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.counting import table_estimate
from core.models import AuditEvent, OutboxTask


class ReadOnlyAdmin(admin.ModelAdmin):
    """An append-only ledger: nothing is added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInlineMixin:
    """An inline that shows records and never adds, changes or deletes one."""

    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EstimatedCountPaginator(Paginator):
    """Paginate without an exact COUNT(*) of a whole big table (see core.counting).

    `whole_list` is the unfiltered list when it is not the bare table; `is_estimate` tells the
    page to say "about N", as a filtered or searched list always gets its exact count.
    """

    whole_list: Callable[[], QuerySet] | None = None

    @cached_property
    def estimate(self) -> int | None:
        """Return the planner's estimate when this is the whole, big list; else None."""
        whole = self.whole_list() if self.whole_list is not None else None
        return table_estimate(
            self.object_list, exact_below=settings.ADMIN_EXACT_COUNT_LIMIT, whole=whole
        )

    @property
    def is_estimate(self) -> bool:
        """Say whether the count shown is the estimate rather than an exact count."""
        return self.estimate is not None

    @cached_property
    def count(self) -> int:
        return self.object_list.count() if self.estimate is None else self.estimate


class PlainActionCheckboxMixin:
    """Render each row's action checkbox as one formatted string, not through widget templates.

    Django renders it with a form widget and its template for every row, a third of a long list's
    rendering; the HTML is the same.
    """

    def action_checkbox(self, obj):
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


def show_refusal(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's refusal next to the form field it names, or above the form."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def form_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    form: forms.Form,
    template: str,
    title: str,
    on_valid: Callable[[dict[str, Any]], str | HttpResponse],
    then: str = "",
    **context: Any,
) -> HttpResponse:
    """Render a custom admin page whose form, once valid and posted, calls a service.

    `on_valid(cleaned_data)` does the work and returns either the message shown to staff, who are
    then sent to `then` (default: this page again), or the response to answer with; a
    `ValidationError` it raises is shown on the form and the page stays.
    """
    if request.method == "POST" and form.is_valid():
        try:
            outcome = on_valid(form.cleaned_data)
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            if isinstance(outcome, HttpResponse):
                return outcome
            model_admin.message_user(request, outcome)
            return redirect(then or request.path)
    page = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "opts": model_admin.opts,
        **context,
    }
    return TemplateResponse(request, template, page)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "channel")
    list_filter = ("action", "channel", "object_type")
    list_select_related = ("actor", "object_type")
    search_fields = ("=object_id", "=actor__username")
    date_hierarchy = "at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    """What waits for the broker, and why it was refused."""

    list_display = ("task", "created_at", "attempts", "last_error")
    list_filter = ("task",)
    readonly_fields = ("task", "args", "kwargs", "created_at", "attempts", "last_error")

    def has_delete_permission(self, request, obj=None):
        # An operator may drop a task that no worker knows any more.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)
