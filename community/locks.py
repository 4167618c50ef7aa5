"""Row locks of the community app (``select_for_update`` querysets). Take them inside a transaction."""

from __future__ import annotations

from registry.models import Repo


def repo_lock(*, repo_id: int) -> Repo:
    """Lock a repository row: discussion numbers are allocated under it."""
    return Repo.objects.select_for_update().get(pk=repo_id)
