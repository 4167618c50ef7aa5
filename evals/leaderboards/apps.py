from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    """Boards, submissions and their admission, ranks with intervals, evidence, deltas on pull
    requests; connected to runs and repositories through signals."""

    name = "evals.leaderboards"
    label = "leaderboards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from evals.leaderboards import receivers  # noqa: F401  (connects the signal receivers)
        from evals.leaderboards.collection_kinds import LEADERBOARD_ITEMS
        from evals.leaderboards.panels import pull_request_panel, repo_panel
        from registry.collection_kinds import register_item_kind
        from registry.panels import PULL_REQUEST_SIDEBAR, REPO_SIDEBAR

        register_item_kind(LEADERBOARD_ITEMS)

        if repo_panel not in REPO_SIDEBAR:
            REPO_SIDEBAR.append(repo_panel)
            PULL_REQUEST_SIDEBAR.append(pull_request_panel)
