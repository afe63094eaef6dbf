"""`manage.py rebuild_consent_states`: recompute the derived consent states from the ledger."""

from django.core.management.base import BaseCommand, CommandError

from privacy.consent.ledger import rebuild_consent_states


class Command(BaseCommand):
    help = (
        "Rebuild every contact's current consent per purpose from the consent ledger; safe to "
        "interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="Contacts rewritten per transaction."
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        written = rebuild_consent_states(batch_size=options["batch_size"])
        self.stdout.write(self.style.SUCCESS(f"Consent states rebuilt: {written}"))
