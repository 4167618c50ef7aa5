from django.apps import AppConfig


class CommunityConfig(AppConfig):
    """Contributions: discussions, pull requests and reviews, and where a change lands."""

    name = "community"
    label = "community"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community import hooks, receivers  # noqa: F401  (receivers: connects the card check)

        hooks.register()
