"""`manage.py retention_schedule`: print the retention schedule as a Markdown table."""

from django.core.management.base import BaseCommand

from privacy.deletion.retention import schedule_markdown


class Command(BaseCommand):
    help = "Print the active retention rules as the Markdown table docs/retention.md shows."

    def handle(self, *args, **options):
        self.stdout.write(schedule_markdown())
