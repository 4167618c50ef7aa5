"""Routes: the REST API (under /api/v1/), the OpenAI-compatible API (under /v1/), and pages."""

from django.urls import path, re_path

from registry.page_urls import REPO_PATTERN
from training_runner.inference import apis, openai, views

_MODEL = "models/<str:namespace>/<str:name>"

api_urlpatterns = [
    path(f"{_MODEL}/generate", apis.GenerateApi.as_view(), name="inference-generate"),
    path(f"{_MODEL}/fill-mask", apis.FillMaskApi.as_view(), name="inference-fill-mask"),
    path(f"{_MODEL}/classify", apis.ClassifyApi.as_view(), name="inference-classify"),
    path(f"{_MODEL}/embed", apis.EmbedApi.as_view(), name="inference-embed"),
    path("arena/battles", apis.BattleCreateApi.as_view(), name="arena-battle-create"),
    path("arena/battles/<uuid:battle_id>/answers/<str:side>", apis.BattleAnswerApi.as_view(), name="arena-answer"),
    path("arena/battles/<uuid:battle_id>/vote", apis.VoteApi.as_view(), name="arena-vote"),
]

openai_urlpatterns = [
    path("completions", openai.CompletionsApi.as_view(), name="openai-completions"),
    path("chat/completions", openai.ChatCompletionsApi.as_view(), name="openai-chat-completions"),
    path("models", openai.ModelsApi.as_view(), name="openai-models"),
]

page_urlpatterns = [
    path("arena", views.arena, name="arena"),
    path("arena/board", views.arena_board_page, name="arena-board"),
    path("arena/votes.csv", views.arena_votes_csv, name="arena-votes"),
    re_path(rf"^{REPO_PATTERN}/playground$", views.playground, name="repo-playground"),
    re_path(rf"^{REPO_PATTERN}/playground/toggle$", views.playground_toggle, name="repo-playground-toggle"),
]
