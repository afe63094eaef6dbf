"""manage.py feed_bounces LOCATION: record the bounces and complaints of a bounce mailbox."""

from django.core.management.base import BaseCommand, CommandError

from campaigns.bounces.mailboxes import MailboxUnavailable, feed_mailbox


class Command(BaseCommand):
    help = (
        "Read bounces (delivery status notifications and plain-text notices) and spam complaints "
        "(ARF and non-ARF feedback loops) from an mbox file, a Maildir folder or an IMAP mailbox "
        "(imaps://user:password@host/FOLDER) and record them against the campaign messages they "
        "are about; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The mbox file, Maildir folder or IMAP URL.")

    def handle(self, *args, path: str, **options):
        try:
            outcome = feed_mailbox(path)
        except MailboxUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{outcome['recorded']} recorded, {outcome['already']} already recorded, "
            f"{outcome['unmatched']} for no message of ours, {outcome['unreadable']} unreadable, "
            f"{outcome['other']} not a report."
        )
