from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks: HTTP calls to people's receivers when repositories and discussions they watch change."""

    name = "community.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community.webhooks import receivers  # noqa: F401  (connects the event receiver)
