"""Erasure certificates for the privacy officer: read-only proof, and the leftovers to review."""

import json

from django.contrib import admin
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from privacy.deletion.erasure import review_certificate
from privacy.models import ErasureCertificate


class ReviewFilter(admin.SimpleListFilter):
    title = "leftovers"
    parameter_name = "leftovers"

    def lookups(self, request, model_admin):
        return [("review", "Found, to review"), ("none", "None found")]

    def queryset(self, request, queryset):
        if self.value() == "review":
            return queryset.filter(rows_found__gt=0, reviewed_at__isnull=True)
        if self.value() == "none":
            return queryset.filter(rows_found=0)
        return queryset


@admin.register(ErasureCertificate)
class ErasureCertificateAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "erased_at", "request", "rows_found", "reviewed_at")
    list_filter = (ReviewFilter,)
    list_select_related = ("request",)
    search_fields = ("=id",)
    fields = (
        "erased_at",
        "request",
        "contact_ref",
        "requested_by",
        "removed_table",
        "retained_table",
        "scan_table",
        "rows_found",
        ("reviewed_at", "reviewed_by"),
    )
    readonly_fields = (*fields[:-1], "reviewed_at", "reviewed_by")
    actions = ("mark_reviewed",)

    @admin.display(description="removed (rows per table)")
    def removed_table(self, obj):
        return _pretty(obj.removed)

    @admin.display(description="retained on a legal ground")
    def retained_table(self, obj):
        return _pretty(obj.retained)

    @admin.display(description="scan for leftovers: what was looked at, how, and what was found")
    def scan_table(self, obj):
        method = {
            table: {**how, "found": obj.scan.get(table, 0)} if "fields" in how else how
            for table, how in obj.scan_method.items()
        }
        return _pretty(method or obj.scan)

    def has_review_permission(self, request) -> bool:
        """Officers who decide requests deal with an erasure's leftovers."""
        return request.user.has_perm("privacy.change_subjectrequest")

    @admin.action(
        description="Mark the leftovers of the selected certificates dealt with",
        permissions=["review"],
    )
    def mark_reviewed(self, request, queryset):
        done = sum(review_certificate(certificate=c, actor=request.user) for c in queryset)
        self.message_user(request, f"{done} certificate(s) marked reviewed.")


def _pretty(value: dict):
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))
