"""Where a finished conversion lands: a pull request carrying its files.

The one place the conversion opens a pull request, so it can follow the pull requests when they
move to their own app (today they live in ``hub.services.discussions``; the HF commit endpoint's
``create_pr=1`` uses the same ``pull_request_propose``).
"""

from __future__ import annotations

from pathlib import Path

from hub.services.discussions import pull_request_propose
from registry.models import Repo
from registry.services.commits import AddFile
from registry.storage import stage_file


def conversion_pull_request_open(
    *, repo: Repo, user, branch: str, parent_commit: str, files: dict[str, Path], title: str, description: str
) -> int:
    """Open a pull request against ``branch`` adding ``files`` (path in the repository -> local
    file) in one commit on ``parent_commit``; returns its number."""
    operations = [AddFile(path=path, staged=stage_file(local)) for path, local in files.items()]
    try:
        discussion = pull_request_propose(
            repo=repo,
            user=user,
            branch=branch,
            operations=operations,
            summary=title,
            description=description,
            parent_commit=parent_commit,
        )
    finally:
        for op in operations:
            op.staged.discard()
    return discussion.num
