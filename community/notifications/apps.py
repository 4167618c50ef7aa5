from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The in-app inbox and notification emails, fed by the domain events of ``common.events``."""

    name = "community.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community.notifications import receivers  # noqa: F401  (connects the event receiver)
