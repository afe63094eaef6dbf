"""What the demo keeps about staff: whether each has put the first-run tour away."""

from django.conf import settings
from django.db import models


class TourState(models.Model):
    """One member of staff's choice about the tour on the admin's home page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tour_state"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"tour of user #{self.user_id}"
