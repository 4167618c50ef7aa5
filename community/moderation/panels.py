"""The moderation panel of repository pages (``registry.panels.REPO_SIDEBAR``): a Report link for
people signed in, and for the owners of a disabled repository the appeal form or its status."""

from __future__ import annotations

from django.http import HttpRequest

from community.moderation.choices import TargetKind
from community.moderation.selectors import appeal_of, appealable_action
from registry.models import Repo


def repo_panel(request: HttpRequest, repo: Repo) -> dict | None:
    if not request.user.is_authenticated:
        return None
    action = (
        appealable_action(user=request.user, target_kind=TargetKind.REPO, target_id=repo.pk) if repo.disabled else None
    )
    return {
        "template": "moderation/_repo_panel.html",
        "repo": repo,
        "action": action,
        "appeal": appeal_of(action=action) if action is not None else None,
    }
