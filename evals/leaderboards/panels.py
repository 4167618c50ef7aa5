"""The leaderboards' panels on repository pages (see ``registry.panels``): a model's positions
on boards and where to submit it; a pull request's evaluated delta against its branch."""

from __future__ import annotations

from django.http import HttpRequest

from evals.leaderboards.models import Entry, Leaderboard
from evals.leaderboards.selectors import repo_positions
from registry.choices import RepoType
from registry.selectors.pages import repo_can_write


def repo_panel(request: HttpRequest, repo) -> dict | None:
    if repo.type != RepoType.MODEL:
        return None
    positions = repo_positions(repo=repo)
    can_submit = request.user.is_authenticated and repo_can_write(user=request.user, repo=repo)
    boards = list(Leaderboard.objects.select_related("namespace").order_by("title")[:50]) if can_submit else []
    if not positions and not boards:
        return None
    return {"template": "leaderboards/_repo_panel.html", "positions": positions, "boards": boards, "repo": repo}


def pull_request_panel(request: HttpRequest, discussion) -> dict | None:
    entries = list(
        Entry.objects.filter(model_repo=discussion.repo, pull_request=discussion.num)
        .select_related("board__namespace")
        .defer("item_values")
        .order_by("board_id", "-created_at")
    )
    latest = {}
    for entry in entries:
        latest.setdefault(entry.board_id, entry)
    if not latest:
        return None
    return {"template": "leaderboards/_pull_request_panel.html", "entries": list(latest.values())}
