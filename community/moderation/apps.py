from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Reports, the moderators' actions and their public log, appeals. Acts on the registry and
    the hub through their services; adds its panel to repository pages through
    ``registry.panels``."""

    name = "community.moderation"
    label = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from community.moderation.panels import repo_panel
        from registry.panels import REPO_SIDEBAR

        if repo_panel not in REPO_SIDEBAR:
            REPO_SIDEBAR.append(repo_panel)
