"""`manage.py purge_expired [--dry-run] [--rule KIND] [--list]`: run the retention rules now."""

from django.core.management.base import BaseCommand, CommandError

from privacy.deletion.retention import (
    RULE_KINDS,
    RetentionBusy,
    RetentionFailed,
    RetentionSuperseded,
    preview,
    rule_kind,
    run_all,
)
from privacy.models import RetentionRule


class Command(BaseCommand):
    help = "Remove what the retention rules say has expired; --dry-run only counts."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--rule", help="Run only this rule (its kind, see --list).")
        parser.add_argument("--list", action="store_true", help="List the rules and what is due.")

    def handle(self, *args, **options):
        if options["list"]:
            for rule in RetentionRule.objects.all():
                if rule.kind not in RULE_KINDS:
                    self.stdout.write(f"{rule.kind}: unknown kind; run privacy_check.")
                    continue
                counts = preview(rule)
                state = "active" if rule.is_active else "inactive"
                self.stdout.write(
                    f"{rule.kind}: {rule.period_days} days, {rule.action}, {state}; "
                    f"{rule_kind(rule).label}. Due now {counts['now']}, within 30 days "
                    f"{counts['next_30_days']}, restricted {counts['restricted']}."
                )
            return
        try:
            runs = run_all(dry_run=options["dry_run"], only=options["rule"])
        except (RetentionBusy, RetentionFailed, RetentionSuperseded) as exc:
            raise CommandError(str(exc)) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "would remove" if options["dry_run"] else "removed"
        for run in runs:
            count = run.selected if options["dry_run"] else run.acted
            self.stdout.write(
                f"{run.rule.kind}: {verb} {count}; skipped (restricted) {run.skipped_restricted}; "
                f"anonymised under legal hold {run.held}; receipt {run.receipt}"
            )
