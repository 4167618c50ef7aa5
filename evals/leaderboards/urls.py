"""Routes of leaderboards: the REST API (under ``api/v1/``) and the pages."""

from django.urls import path, re_path

from evals.leaderboards import apis, views

_BOARD = "leaderboards/<str:namespace>/<str:name>"

api_urlpatterns = [
    path("leaderboards", apis.LeaderboardListCreateApi.as_view(), name="api-leaderboards"),
    path(_BOARD, apis.LeaderboardDetailApi.as_view(), name="api-leaderboard"),
    path(f"{_BOARD}/submissions", apis.SubmissionsApi.as_view(), name="api-leaderboard-submissions"),
    path(f"{_BOARD}/compare", apis.CompareApi.as_view(), name="api-leaderboard-compare"),
    path(f"{_BOARD}/entries/<id:entry_id>/rerun", apis.EntryRerunApi.as_view(), name="api-leaderboard-rerun"),
    path(f"{_BOARD}/entries/<id:entry_id>/flags", apis.EntryFlagApi.as_view(), name="api-leaderboard-flag"),
]

page_urlpatterns = [
    path("leaderboards", views.leaderboard_list_page, name="leaderboards"),
    path("leaderboards/new", views.leaderboard_new, name="leaderboard-new"),
    path("leaderboards/submit", views.submit_any_page, name="leaderboard-submit-any"),
    re_path(
        r"^leaderboards/(?P<namespace>[^/]+)/(?P<name>[^/]+)\.(?P<fmt>csv|json)$",
        views.leaderboard_export,
        name="leaderboard-export",
    ),
    path(_BOARD, views.leaderboard_page, name="leaderboard"),
    path(f"{_BOARD}/compare", views.compare_page, name="leaderboard-compare"),
    path(f"{_BOARD}/submit", views.submit_page, name="leaderboard-submit"),
    path(f"{_BOARD}/entries/<id:entry_id>/flag", views.flag_page, name="leaderboard-flag"),
    path(f"{_BOARD}/entries/<id:entry_id>/rerun", views.rerun_page, name="leaderboard-rerun"),
]
