from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from anymail.signals import tracking

        from campaigns.bounces.webhooks import record_tracking_event

        # django-anymail announces each provider event it has checked and read on this signal.
        tracking.connect(record_tracking_event, dispatch_uid="campaigns.record_tracking_event")
