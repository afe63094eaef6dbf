"""Create and change companies, normalising their domain, phone and country."""

from django.db import transaction

from core.normalisation import (
    normalise_country,
    normalise_domain,
    normalise_fields,
    normalise_phone,
    phone_region,
)
from crm.models import Company

# The fields staff and integrators give a company, in the model's order (admin form, API).
COMPANY_FIELDS = tuple(
    f.name for f in Company._meta.concrete_fields if f.editable and not f.primary_key
)


def normalise_company(company: Company) -> None:
    """Normalise domain (from the website when empty), phone and country; raise all errors."""
    normalise_fields(
        company,
        [
            ("country", lambda value: normalise_country(str(value or ""))),
            ("domain", lambda value: normalise_domain(value or company.website)),
            (
                "phone",
                lambda value: (
                    normalise_phone(value, region=phone_region(company)) if value else value
                ),
            ),
        ],
    )


def save_company(*, company: Company) -> Company:
    """Normalise and save a company; raise ValidationError with field errors if invalid."""
    normalise_company(company)
    with transaction.atomic():
        company.save()
    return company
