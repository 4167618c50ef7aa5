"""Where a change lands — the one decision behind every face that commits files (the HF commit
API, the REST commit API, the edit and upload pages).

A change goes onto a branch (people with write access), onto an existing pull request
(``refs/pr/N`` while it is open or a draft: its author and writers), or into a new pull request
against a branch (anyone signed in who can read the repository). Nothing else moves: a tag, a
``refs/convert/…`` ref or a commit id is refused with a 400 naming it, a pull request that is
closed or merged with a 409, a missing branch or pull request with ``RevisionNotFound``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from common.errors import PermissionDenied, Unauthenticated, ValidationError
from common.inputs import MAX_INT32, text_int
from community.models import Discussion
from community.rules import branch_rule_find, is_bypasser
from community.selectors import pull_request_find
from community.services.branch_rules import branch_rule_guard
from community.services.discussions import (
    can_moderate,
    check_can_push_to_pull_request,
    pull_request_commit,
    pull_request_propose,
)
from registry.errors import RevisionNotFound
from registry.hooks import RefAction
from registry.models import Repo
from registry.selectors.revisions import branch_ref, ref_target
from registry.services.commits import Operation, commit_create, commit_ref_check

PULL_REQUEST_REF = re.compile(r"^refs/pr/[0-9]+$")


class Landing(StrEnum):
    BRANCH = "branch"
    PULL_REQUEST = "pull_request"  # an existing one, ``refs/pr/N``
    NEW_PULL_REQUEST = "new_pull_request"


@dataclass(frozen=True)
class ChangeTarget:
    """Where a change will land. ``ref`` is the branch (``refs/heads/x``) or the pull request's ref;
    ``branch`` the branch name a new pull request targets or the commit lands on (a pull request's
    target for an existing one); ``can_commit`` whether the user may commit to the branch itself,
    so a page can offer the choice."""

    landing: Landing
    ref: str
    branch: str
    pull_request: Discussion | None
    can_commit: bool


@dataclass(frozen=True)
class ChangeOutcome:
    commit_oid: str
    pull_request: Discussion | None  # the pull request the commit went onto or opened


def change_target(*, repo: Repo, user, revision: str, create_pr: bool | None = False) -> ChangeTarget:
    """Decide where a change to ``revision`` lands, and check that ``user`` may put it there.

    ``create_pr``: True opens a pull request against the branch, False commits to it (writers
    only, and bypassers of a branch rule that requires pull requests), None commits when the user
    may and opens a pull request otherwise (what the browser offers people who may not commit).
    A ``refs/pr/N`` revision is that pull request whatever ``create_pr`` says, as on the Hub,
    except that True is refused (a pull request of a pull request is not a thing).
    """
    if not getattr(user, "is_authenticated", False):
        raise Unauthenticated(f"Log in or pass a token to change {repo.repo_id}.")
    if PULL_REQUEST_REF.match(revision):
        if create_pr:
            raise ValidationError(
                f"{revision} is a pull request: commit to it, or open a pull request against a branch."
            )
        num = text_int(revision.rsplit("/", 1)[1], "revision", maximum=MAX_INT32)
        pull_request = pull_request_find(repo=repo, num=num)
        if pull_request is None:
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        check_can_push_to_pull_request(discussion=pull_request, user=user)
        return ChangeTarget(
            landing=Landing.PULL_REQUEST, ref=revision, branch=pull_request.target_ref.removeprefix("refs/heads/"),
            pull_request=pull_request, can_commit=False,
        )  # fmt: skip
    ref = branch_ref(revision)
    commit_ref_check(repo=repo, ref=ref)
    if ref_target(repo=repo, ref=ref) is None:
        raise RevisionNotFound(f"Invalid rev id: {revision}")
    branch = ref.removeprefix("refs/heads/")
    writer = can_moderate(user=user, repo=repo)
    if create_pr is False and not writer:
        raise PermissionDenied(
            f"You cannot write to {repo.repo_id}: open a pull request with your change instead (create_pr)."
        )
    rule = branch_rule_find(repo=repo, branch=branch)
    protected = rule is not None and rule.require_pull_request and not is_bypasser(rule=rule, user=user)
    if create_pr is False and protected:
        branch_rule_guard(repo=repo, user=user, ref=ref, action=RefAction.COMMIT)  # raises, naming the rule
    can_commit = writer and not protected
    landing = Landing.BRANCH if create_pr is False or (create_pr is None and can_commit) else Landing.NEW_PULL_REQUEST
    return ChangeTarget(landing=landing, ref=ref, branch=branch, pull_request=None, can_commit=can_commit)


def change_apply(
    *, repo: Repo, user, target: ChangeTarget, operations: list[Operation], summary: str, description: str = "",
    parent_commit: str | None = None,
) -> ChangeOutcome:  # fmt: skip
    """Land ``operations`` where ``target`` says (see :func:`change_target`): one commit, on the
    branch, on the pull request (recorded in its timeline), or in a new pull request whose title
    is ``summary``. A stale ``parent_commit`` is a 412 and leaves nothing behind. The caller still
    owns the staged files of ``operations``."""
    change = {"operations": operations, "description": description, "parent_commit": parent_commit}
    if target.landing == Landing.NEW_PULL_REQUEST:
        proposed = pull_request_propose(repo=repo, user=user, branch=target.branch, summary=summary, **change)
        return ChangeOutcome(commit_oid=ref_target(repo=repo, ref=proposed.git_reference), pull_request=proposed)
    if target.landing == Landing.PULL_REQUEST:
        commit = pull_request_commit(discussion=target.pull_request, user=user, summary=summary, **change)
        return ChangeOutcome(commit_oid=commit.oid, pull_request=target.pull_request)
    result = commit_create(repo=repo, user=user, ref=target.ref, summary=summary, **change)
    return ChangeOutcome(commit_oid=result.commit.oid, pull_request=None)
