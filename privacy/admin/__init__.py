"""The privacy officer's screens, one module per concern; importing them registers them."""

from privacy.admin import (  # noqa: F401 -- each module registers its screens
    breaches,
    certificates,
    consent,
    contacts,
    recipients,
    registers,
    requests,
    retention,
)
