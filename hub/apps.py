from django.apps import AppConfig


class HubConfig(AppConfig):
    """People and governance: accounts, organizations, memberships and API tokens."""

    name = "hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub import openapi  # noqa: F401  (registers the bearer scheme with drf-spectacular)
