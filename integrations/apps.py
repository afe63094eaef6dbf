from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outbound webhooks and the art. 19 notices to recipients: above campaigns, below demo."""

    name = "integrations"
    verbose_name = "Integrations"
