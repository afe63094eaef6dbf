"""`manage.py privacy_check`: registry completeness, provenance and art. 14 information."""

import json

from django.core.management.base import BaseCommand, CommandError

from privacy.checks import privacy_report


class Command(BaseCommand):
    help = (
        "Check the privacy registry and contacts' provenance; exit 1 when a model holding "
        "personal data is not declared."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        report = privacy_report()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for label, reasons in report.undeclared_models.items():
                self.stdout.write(f"Undeclared personal data: {label} ({'; '.join(reasons)})")
            self.stdout.write(f"Contacts without provenance: {report.contacts_without_provenance}")
            self.stdout.write(
                "Contacts from indirect sources not yet informed (art. 14): "
                f"{report.indirect_contacts_not_informed}"
            )
        if report.undeclared_models:
            raise CommandError("Some models hold personal data but are not in the registry.")
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS("Every personal-data model is declared."))
