"""`manage.py privacy_check`: what must be fixed (exit 1) and what to act on (warnings)."""

import json

from django.core.management.base import BaseCommand, CommandError

from privacy.accountability.checks import FAILURES, WARNINGS, PrivacyReport, privacy_report


def _finding(value: int | list | dict) -> str:
    """Say a finding as a count, followed by the names when they are organisations or models."""
    if isinstance(value, int):
        return str(value)
    if not value:
        return "0"
    return f"{len(value)} ({', '.join(value)})"


class Command(BaseCommand):
    help = (
        "Check the registry, overdue requests, retention rules, transfers outside the EU and "
        "contacts under 16; exit 1 when one of them needs fixing. Contacts without provenance "
        "and contacts not yet informed (art. 14) are warnings."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print only the report as JSON; the exit status is the same.",
        )

    def handle(self, *args, **options):
        report = privacy_report()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self._print(report)
        if report.failures:
            found = "; ".join(FAILURES[name] for name in report.failures)
            raise CommandError(f"Privacy check failed. {found}.")
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS("Privacy check passed."))

    def _print(self, report: PrivacyReport) -> None:
        for label, reasons in report.undeclared_models.items():
            self.stdout.write(f"Undeclared personal data: {label} ({'; '.join(reasons)})")
        if not report.undeclared_models:
            self.stdout.write("Every personal-data model is declared.")
        for name, label in FAILURES.items():
            if name != "undeclared_models":
                self.stdout.write(f"{label}: {_finding(getattr(report, name))}")
        self.stdout.write("Warnings (they do not change the exit status):")
        for name, label in WARNINGS.items():
            self.stdout.write(f"  {label}: {_finding(getattr(report, name))}")
