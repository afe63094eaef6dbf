"""The privacy officer's retention screens: rules with what is due, run history, dry runs.

Imported by `privacy.admin` so the admin registers it.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from privacy.admin.translated import translated_form
from privacy.deletion.retention import (
    RULE_KINDS,
    RetentionBusy,
    category,
    preview,
    run_rule_on_demand,
)
from privacy.models import RetentionRule, RetentionRun


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    form = translated_form(RetentionRule, ("note",), required=("note",))
    list_display = (
        "kind",
        "what",
        "data_category",
        "period_days",
        "action",
        "is_active",
        "due_now",
        "due_within_30_days",
        "skipped_restricted",
    )
    list_editable = ("period_days", "is_active")
    readonly_fields = ("kind", "what", "data_category")
    fields = ("kind", "what", "data_category", "period_days", "action", "is_active", "note")
    actions = ("dry_run", "run_now")

    def has_add_permission(self, request):
        # A rule needs a kind defined in code (which rows, which age); the seeded rules cover them.
        return False

    def has_delete_permission(self, request, obj=None):
        # Switch a rule off instead: its run history stays readable.
        return False

    @admin.display(description="what it removes")
    def what(self, obj):
        return RULE_KINDS[obj.kind].label if obj.kind in RULE_KINDS else "unknown kind"

    @admin.display(description="data category")
    def data_category(self, obj):
        return category(obj) if obj.kind in RULE_KINDS else "unknown kind: see privacy_check"

    @staticmethod
    def _counts(obj) -> dict[str, int]:
        # Three columns share one preview per rule and page view.
        if not hasattr(obj, "_preview"):
            unknown = {"now": 0, "next_30_days": 0, "restricted": 0}
            obj._preview = preview(obj) if obj.kind in RULE_KINDS else unknown
        return obj._preview

    @admin.display(description="due now")
    def due_now(self, obj):
        return self._counts(obj)["now"]

    @admin.display(description="due within 30 days")
    def due_within_30_days(self, obj):
        return self._counts(obj)["next_30_days"]

    @admin.display(description="restricted (skipped)")
    def skipped_restricted(self, obj):
        return self._counts(obj)["restricted"]

    @admin.action(description="Dry run: count what the selected rules would remove now")
    def dry_run(self, request, queryset):
        for rule in queryset:
            run = run_rule_on_demand(rule=rule, actor=request.user, dry_run=True)
            self.message_user(
                request,
                f"{rule.kind}: would remove {run.selected}; {run.skipped_restricted} skipped "
                "because their processing is restricted.",
            )

    @admin.action(description="Run the selected rules now (after a dry run)")
    def run_now(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            # A dry run first: staff see what would go before anything is removed.
            runs = [run_rule_on_demand(rule=r, actor=request.user, dry_run=True) for r in queryset]
            context = {
                **self.admin_site.each_context(request),
                "title": "Run retention rules now",
                "opts": self.model._meta,
                "runs": runs,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/privacy/retention_run_confirm.html", context)
        for rule in queryset:
            try:
                run = run_rule_on_demand(rule=rule, actor=request.user, dry_run=False)
            except RetentionBusy as exc:
                self.message_user(request, str(exc), messages.WARNING)
                return None
            self.message_user(
                request,
                f"{rule.kind}: removed {run.acted}, anonymised under legal hold {run.held}, "
                f"skipped (restricted) {run.skipped_restricted}.",
            )
        return None


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = (
        "rule",
        "started_at",
        "finished_at",
        "dry_run",
        "status",
        "selected",
        "acted",
        "skipped_restricted",
        "held",
        "batches",
    )
    list_filter = ("status", "dry_run", "rule")
    list_select_related = ("rule",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
