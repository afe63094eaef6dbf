"""manage.py feed_bounces PATH: record the bounces and complaints of an mbox file of reports."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.bounces import feed_mbox


class Command(BaseCommand):
    help = (
        "Read delivery status notifications (RFC 3464) and spam reports (RFC 5965) from an mbox "
        "file and record them against the campaign messages they return; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The mbox file, e.g. the bounce mailbox.")

    def handle(self, *args, path: Path, **options):
        try:
            outcome = feed_mbox(path)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{outcome['recorded']} recorded, {outcome['already']} already recorded, "
            f"{outcome['unmatched']} for no message of ours, {outcome['other']} not a report."
        )
