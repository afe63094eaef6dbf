"""Create and change companies, normalising their domain, phone and country."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Company
from crm.normalisation import normalise_country, normalise_domain, normalise_phone


def normalise_company(company: Company) -> None:
    """Normalise domain (from the website when empty), phone and country; raise all errors."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        company.country = normalise_country(str(company.country or ""))
    except ValidationError as exc:
        errors["country"] = exc.error_list
    try:
        company.domain = normalise_domain(company.domain or company.website)
    except ValidationError as exc:
        errors["domain"] = exc.error_list
    if company.phone:
        region = str(company.country or "") or settings.DEFAULT_PHONE_REGION
        try:
            company.phone = normalise_phone(company.phone, region=region)
        except ValidationError as exc:
            errors["phone"] = exc.error_list
    if errors:
        raise ValidationError(errors)


def save_company(*, company: Company) -> Company:
    """Normalise and save a company; raise ValidationError with field errors if invalid."""
    normalise_company(company)
    with transaction.atomic():
        company.save()
    return company
