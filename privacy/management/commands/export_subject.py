"""`manage.py export_subject EMAIL`: write a person's access/portability zip and print its link."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.normalisation import canonical_email
from crm.models import Contact
from privacy.links import download_url
from privacy.requests.exports import export_subject


class Command(BaseCommand):
    help = "Export everything held about the contact with this e-mail address (GDPR art. 15, 20)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, **options):
        try:
            address = canonical_email(options["email"])
        except ValidationError as exc:
            raise CommandError("That is not a valid e-mail address.") from exc
        contact = Contact.objects.filter(email=address).first()
        if contact is None:
            raise CommandError("No contact has this e-mail address; nothing to export.")
        export = export_subject(contact=contact, requested_by=None, channel="command")
        self.stdout.write(f"{export.rows} rows exported to {export.file.path}")
        self.stdout.write(f"Download link, valid until {export.expires_at:%Y-%m-%d %H:%M}:")
        self.stdout.write(download_url(export))
