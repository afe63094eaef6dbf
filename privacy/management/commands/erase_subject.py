"""`manage.py erase_subject EMAIL`: erase a person through the registry; print the certificate."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.normalisation import normalise_email
from privacy.erasure import erase_address


class Command(BaseCommand):
    help = (
        "Erase the contact with this e-mail address (GDPR art. 17), suppress the address and "
        "print the erasure certificate. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, **options):
        try:
            address = normalise_email(options["email"])
        except ValidationError as exc:
            raise CommandError("That is not a valid e-mail address.") from exc
        certificate = erase_address(email=address, requested_by=None, channel="command")
        if certificate is None:
            raise CommandError("No contact has this address and none was erased before.")
        self.stdout.write(
            json.dumps(
                {
                    "certificate": certificate.pk,
                    "erased_at": certificate.erased_at.isoformat(),
                    "removed": certificate.removed,
                    "retained": certificate.retained,
                    "scan": certificate.scan,
                    "rows_found": certificate.rows_found,
                },
                indent=2,
            )
        )
