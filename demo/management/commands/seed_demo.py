"""`manage.py seed_demo`: load the made-up demo companies and contacts (idempotent)."""

from django.core.management.base import BaseCommand

from demo.seeding import seed_demo


class Command(BaseCommand):
    help = "Load demo companies, contacts with provenance, and interactions; safe to run again."

    def handle(self, *args, **options):
        summary = seed_demo()
        self.stdout.write(
            f"Demo data: {summary.companies} companies, {summary.contacts} contacts "
            f"({summary.created_contacts} added by this run)."
        )
