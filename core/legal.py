"""The legal bases of processing (GDPR art. 6(1)): one list for purposes and attested lists."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent (art. 6(1)(a))")
    CONTRACT = "contract", _("Contract (art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (art. 6(1)(c))")
    VITAL_INTEREST = "vital_interest", _("Vital interest (art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (art. 6(1)(e))")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest (art. 6(1)(f))")
