from django.apps import AppConfig
from django.db.models import Q


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from anymail.signals import tracking

        from campaigns.bounces.webhooks import record_tracking_event

        # django-anymail announces each provider event it has checked and read on this signal.
        tracking.connect(record_tracking_event, dispatch_uid="campaigns.record_tracking_event")

        # Importing crm's modules needs the app registry, so it waits until it is ready.
        from crm.senders import register_sender_lookup

        register_sender_lookup(mailed_by)


def mailed_by(contact_id: int) -> Q:
    """Match the clients whose campaigns sent this contact a message (crm.senders)."""
    return Q(campaigns__messages__contact_id=contact_id)
