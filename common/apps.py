from django.apps import AppConfig
from django.urls import register_converter


class CommonConfig(AppConfig):
    name = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from common.converters import IdConverter

        # Registered before the URL configuration is imported (Django imports it lazily).
        register_converter(IdConverter, "id")
