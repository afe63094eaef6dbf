"""What the demo's tables hold, for the personal-data registry."""

from core.registry import registry
from demo.models import TourState

registry.exempt(
    TourState,
    reason="Whether a member of staff put the tour away, and when; nothing about data subjects.",
)
