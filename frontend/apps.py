from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """Templates, static assets and the pages that gather content from several apps."""

    name = "frontend"
