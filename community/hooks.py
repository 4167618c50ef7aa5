"""What the community app plugs into the registry (``registry.hooks``, ``registry.panels``): pushes
to ``refs/pr/N``, the branch rules' guard, and the repository page's conversion panel."""

from __future__ import annotations

from common.errors import NotFound
from community.selectors import pull_request_find
from community.services.branch_rules import branch_rule_guard
from community.services.discussions import check_can_push_to_pull_request, pull_request_record_commit
from registry import hooks
from registry.choices import RepoType
from registry.panels import REPO_SIDEBAR
from registry.selectors.conversions import conversion_offered, conversions_recent, default_branch_files
from registry.selectors.pages import repo_can_write


class PullRequestPushes:
    """A push onto ``refs/pr/N``: the pull request must exist and be open (or a draft), and the
    pusher be its author or a writer; each pushed commit joins its timeline."""

    def check_push(self, *, repo, user, num: int) -> None:
        discussion = pull_request_find(repo=repo, num=num)
        if discussion is None:
            raise NotFound(f"there is no pull request #{num}; open one on the hub first")
        check_can_push_to_pull_request(discussion=discussion, user=user)

    def record_commits(self, *, repo, user, num: int, commits: list) -> None:
        discussion = pull_request_find(repo=repo, num=num)
        for commit in commits:
            pull_request_record_commit(discussion=discussion, user=user, commit=commit)


def conversion_panel(request, repo) -> dict | None:
    """The repository page's offer to convert pickle checkpoints to safetensors, and the recent
    conversions, for the model's writers."""
    if repo.type != RepoType.MODEL or not repo_can_write(user=request.user, repo=repo):
        return None
    offered = conversion_offered(files=default_branch_files(repo=repo))
    recent = conversions_recent(repo=repo)
    if not offered and not recent:
        return None
    return {"template": "community/_conversion_panel.html", "offered": offered, "conversions": recent}


def register() -> None:
    hooks.pull_request_refs_register(PullRequestPushes())
    REPO_SIDEBAR.append(conversion_panel)
    hooks.ref_guard_register(branch_rule_guard)
