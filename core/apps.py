from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor every app stands on; it imports none of them."""

    name = "core"
    verbose_name = "Audit trail and operations"

    def ready(self) -> None:
        import core.lookups  # noqa: F401  (registers `__any_of` on every field)
        from core.registry import autodiscover
        from core.task_runs import connect_receivers

        autodiscover()
        connect_receivers()
