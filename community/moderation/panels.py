"""The moderation panel of repository pages (``registry.panels.REPO_SIDEBAR``): a Report link for
people signed in, and for the owners of a disabled repository the appeal form or its status."""

from __future__ import annotations

from django.http import HttpRequest

from community.moderation.choices import TargetKind
from community.moderation.selectors import appeal_offer
from registry.models import Repo


def repo_panel(request: HttpRequest, repo: Repo) -> dict | None:
    if not request.user.is_authenticated:
        return None
    offer = appeal_offer(user=request.user, target_kind=TargetKind.REPO, target_id=repo.pk) if repo.disabled else None
    return {"template": "moderation/_repo_panel.html", "repo": repo, "offer": offer}
