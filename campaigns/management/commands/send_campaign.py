"""`manage.py send_campaign ID`: start sending a draft or scheduled campaign now."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.audience import audience_breakdown
from campaigns.models import Campaign
from campaigns.sending import batches, handover, starting, states
from campaigns.sending.progress import sending_progress


class Command(BaseCommand):
    help = (
        "Start sending a campaign: create one message per person of its audience and queue the "
        "batches on the sending workers. With --foreground, send the batches in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument(
            "--foreground",
            action="store_true",
            help="Send every batch here instead of on the sending workers.",
        )

    def handle(self, *args, campaign_id: int, foreground: bool, **options):
        campaign = Campaign.objects.select_related("segment", "purpose", "client").filter(
            pk=campaign_id
        )
        campaign = campaign.first()
        if campaign is None:
            raise CommandError(f"There is no campaign #{campaign_id}.")
        breakdown = audience_breakdown(campaign)
        self.stdout.write(f"Segment: {breakdown.segment} contacts")
        for _, label, count in breakdown.rows():
            self.stdout.write(f"  excluded, {label.lower()}: {count}")
        try:
            created = starting.start_sending(campaign=campaign, on_workers=not foreground)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        where = "here" if foreground else "on the sending workers"
        self.stdout.write(f"Campaign #{campaign_id} is sending {where}: {created} messages.")
        if foreground:
            self._send_here(campaign_id)

    def _show_progress(self, campaign_id: int) -> None:
        """Redraw the progress bar in place (a terminal), or print a line per batch (a log)."""
        line = sending_progress(Campaign.objects.get(pk=campaign_id)).bar()
        if self.stdout.isatty():
            self.stdout.write(f"\r{line}", ending="")
            self.stdout.flush()
        else:
            self.stdout.write(line)

    def _send_here(self, campaign_id: int) -> None:
        totals = {"sent": 0, "skipped": 0, "failed": 0}
        while batches.has_queued(campaign_id):
            try:
                outcome = batches.send_batch(campaign_id=campaign_id)
            except handover.SendingInterrupted as exc:
                raise CommandError(
                    f"The mail server could not be reached ({exc}); the rest stays queued."
                ) from exc
            totals["sent"] += outcome.sent
            totals["skipped"] += outcome.skipped
            totals["failed"] += outcome.failed + outcome.unknown
            self._show_progress(campaign_id)
        states.finish_if_done(campaign_id)
        self.stdout.write("")
        self.stdout.write(
            f"Sent {totals['sent']}, skipped {totals['skipped']}, failed {totals['failed']}."
        )
