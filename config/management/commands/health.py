"""`manage.py health`: the operations report in a shell; exits 1 when something is overdue."""

from django.core.management.base import BaseCommand, CommandError

from config.health import readiness
from config.operations import OVERDUE, WARNING, operations_report

MARKS = {OVERDUE: "OVERDUE", WARNING: "attention"}


class Command(BaseCommand):
    help = (
        "Print the state of the machinery (database, broker, queues, beat and the periodic tasks, "
        "the outbox, failures) and exit with status 1 when something is unreachable or overdue, "
        "for a monitoring system."
    )
    # The checks must answer even when the database is down: none of Django's system checks.
    requires_system_checks = []

    def handle(self, *args, **options):
        probes = readiness()
        self.stdout.write("Readiness")
        for name, probe in probes.items():
            state = "ok" if probe.ok else f"FAILED: {probe.detail}"
            self.stdout.write(f"  {name:<12} {state} ({probe.ms} ms)")
        failed = [name for name, probe in probes.items() if not probe.ok]
        if not probes["database"].ok:
            raise CommandError(
                "The database is unreachable: the operations report cannot be read.", returncode=1
            )
        report = operations_report()
        for section in report.sections:
            self.stdout.write(f"\n{section.title}")
            if not section.lines:
                self.stdout.write(f"  {section.empty}")
            for line in section.lines:
                mark = f"{MARKS[line.status]}: " if line.status in MARKS else ""
                detail = f" — {line.detail}" if line.detail else ""
                self.stdout.write(f"  {line.name}: {mark}{line.value}{detail}")
        problems = failed + [line.name for line in report.overdue]
        if problems:
            raise CommandError(f"Unreachable or overdue: {', '.join(problems)}.", returncode=1)
        self.stdout.write(self.style.SUCCESS("\nEverything is on time."))
