"""`manage.py erase_subject EMAIL | --contact ID`: erase a person through the registry."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.normalisation import canonical_email
from crm.models import Contact
from privacy.deletion.erasure import erase_address, erase_subject
from privacy.models import ErasureCertificate


class Command(BaseCommand):
    help = (
        "Erase the contact with this e-mail address, or with this contact number when they have "
        "no address (GDPR art. 17), suppress the address and print the erasure certificate. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?")
        parser.add_argument("--contact", type=int, help="The contact's number (for no address).")

    def handle(self, *args, **options):
        if (options["email"] is None) == (options["contact"] is None):
            raise CommandError("Give either an e-mail address or --contact ID, not both.")
        if options["contact"] is not None:
            certificate = self._erase_contact(options["contact"])
        else:
            certificate = self._erase_address(options["email"])
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

    def _erase_address(self, email: str) -> ErasureCertificate:
        try:
            address = canonical_email(email)
        except ValidationError as exc:
            raise CommandError("That is not a valid e-mail address.") from exc
        certificate = erase_address(email=address, requested_by=None, channel="command")
        if certificate is None:
            raise CommandError("No contact has this address and none was erased before.")
        return certificate

    def _erase_contact(self, pk: int) -> ErasureCertificate:
        certificate = ErasureCertificate.objects.filter(contact_ref=pk).order_by("-pk").first()
        contact = Contact.objects.filter(pk=pk).first()
        # A row kept under a legal hold after its erasure is not erased twice; one a retention
        # rule anonymised, with no certificate yet, is.
        if contact is not None and certificate is None:
            return erase_subject(contact=contact, requested_by=None, channel="command")
        if certificate is None:
            raise CommandError(f"No contact #{pk} exists and none was erased before.")
        return certificate
