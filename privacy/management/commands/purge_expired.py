"""`manage.py purge_expired [--dry-run] [--rule KIND] [--list]`: run the retention rules now."""

from django.core.management.base import BaseCommand, CommandError

from core.progress import text_bar
from privacy.deletion.retention import (
    RULE_KINDS,
    RetentionBusy,
    RetentionFailed,
    RetentionSuperseded,
    preview,
    rule_kind,
    run_all,
)
from privacy.models import RetentionRule, RetentionRun


class Command(BaseCommand):
    help = "Remove what the retention rules say has expired; --dry-run only counts."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--rule", help="Run only this rule (its kind, see --list).")
        parser.add_argument("--list", action="store_true", help="List the rules and what is due.")

    _expected: dict[int, int]

    def _progress(self, run: RetentionRun) -> None:
        """Redraw the bar of the rule acting (on a terminal): rows removed of those due."""
        if not self.stdout.isatty():
            return
        if run.rule_id not in self._expected:
            if self._expected:
                self.stdout.write("")
            self._expected[run.rule_id] = preview(run.rule)["now"] + run.acted
        bar = text_bar(run.acted, self._expected[run.rule_id])
        self.stdout.write(f"\r{run.rule.kind}: {bar}  {run.acted} rows", ending="")
        self.stdout.flush()

    def handle(self, *args, **options):
        self._expected = {}
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
            runs = run_all(
                dry_run=options["dry_run"], only=options["rule"], progress=self._progress
            )
        except (RetentionBusy, RetentionFailed, RetentionSuperseded) as exc:
            raise CommandError(str(exc)) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if self._expected:
            self.stdout.write("")
        verb = "would remove" if options["dry_run"] else "removed"
        for run in runs:
            count = run.selected if options["dry_run"] else run.acted
            self.stdout.write(
                f"{run.rule.kind}: {verb} {count}; skipped (restricted) {run.skipped_restricted}; "
                f"anonymised under legal hold {run.held}; receipt {run.receipt}"
            )
