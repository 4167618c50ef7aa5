"""What the community app plugs into the registry (``registry.hooks``): pushes to ``refs/pr/N``
and the branch rules' guard."""

from __future__ import annotations

from common.errors import NotFound
from community.selectors import pull_request_find
from community.services.branch_rules import branch_rule_guard
from community.services.discussions import check_can_push_to_pull_request, pull_request_record_commit
from registry import hooks


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


def register() -> None:
    hooks.pull_request_refs_register(PullRequestPushes())
    hooks.ref_guard_register(branch_rule_guard)
