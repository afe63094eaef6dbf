from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_finished


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Operations"

    def ready(self) -> None:
        from config.request_log import forget_request_id
        from config.sessions import start_session_clock

        request_finished.connect(forget_request_id, dispatch_uid="config.request_log.forget")
        user_logged_in.connect(start_session_clock, dispatch_uid="config.sessions.start")
