"""Reads of branch rules and checks: a branch's rule, the checks of a commit, the code owners of a
branch, and what a branch rule still asks of a pull request before it may merge.

(Reads only, like ``community.selectors``; the writes are ``community.services.branch_rules`` and
``community.services.checks``.)
"""

from __future__ import annotations

from fnmatch import fnmatch

from community.choices import CheckState, DiscussionEventType, DiscussionStatus, ReviewState
from community.models import BranchRule, CommitCheck, Discussion
from community.selectors import pull_request_changes, review_summary
from registry.access import Permission, repo_role
from registry.models import Ref, Repo
from registry.selectors.pages import file_read
from registry.selectors.revisions import commit_get, ref_target
from registry.trees import FileInfo, tree_lookup

CODEOWNERS_PATHS = ("CODEOWNERS", ".github/CODEOWNERS")
MAX_CODEOWNERS_BYTES = 64 * 1024


def branch_rule_find(*, repo: Repo, branch: str) -> BranchRule | None:
    return BranchRule.objects.filter(repo=repo, branch=branch).first()


def branch_rules_list(*, repo: Repo) -> list[BranchRule]:
    return list(BranchRule.objects.filter(repo=repo).order_by("branch"))


def is_bypasser(*, rule: BranchRule, user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.username.lower() in {
        name.lower() for name in rule.bypass
    }


def commit_checks(*, repo: Repo, commit_oid: str) -> list[CommitCheck]:
    """The checks reported on a commit, by name."""
    return list(CommitCheck.objects.filter(repo=repo, commit_oid=commit_oid).order_by("name"))


def checks_by_commit(*, repo: Repo, commit_oids: list[str]) -> dict[str, list[CommitCheck]]:
    """The checks reported on each of ``commit_oids`` (one query), by name, for commit lists."""
    found: dict[str, list[CommitCheck]] = {}
    for check in CommitCheck.objects.filter(repo=repo, commit_oid__in=commit_oids).order_by("name"):
        found.setdefault(check.commit_oid, []).append(check)
    return found


def open_pull_requests_at(*, repo: Repo, commit_oid: str) -> list[Discussion]:
    """The open (or draft) pull requests of ``repo`` whose head is ``commit_oid``."""
    nums = [
        int(name.removeprefix("refs/pr/"))
        for name in Ref.objects.filter(repo=repo, name__startswith="refs/pr/", target_oid=commit_oid)
        .values_list("name", flat=True)
    ]  # fmt: skip
    return list(
        Discussion.objects.filter(
            repo=repo, num__in=nums, is_pull_request=True, status__in=[DiscussionStatus.OPEN, DiscussionStatus.DRAFT]
        ).order_by("num")
    )


def code_owners(*, repo: Repo, tree_oid: str) -> list[tuple[str, list[str]]]:
    """``(pattern, owners)`` of the ``CODEOWNERS`` file in ``tree_oid`` (``@`` dropped from names),
    in file order; none when there is no such file."""
    for path in CODEOWNERS_PATHS:
        info = tree_lookup(tree_oid, path)
        if isinstance(info, FileInfo):
            text = file_read(file=info, limit=MAX_CODEOWNERS_BYTES).decode("utf-8", "replace")
            rules = []
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) >= 2:
                    rules.append((words[0], [word.lstrip("@").lower() for word in words[1:]]))
            return rules
    return []


def _owns(pattern: str, path: str) -> bool:
    """git-ignore-like patterns as ``CODEOWNERS`` uses them: ``*`` everything, ``docs/`` a folder
    anywhere, a name without ``/`` anywhere in the tree, ``/x`` or ``a/b`` from the root."""
    anchored = pattern.startswith("/") or "/" in pattern.strip("/")
    bare = pattern.strip("/")
    if pattern.endswith("/"):
        folders = path.split("/")[:-1]
        return path.startswith(bare + "/") if anchored else bare in folders
    if not anchored:
        return fnmatch(path.rsplit("/", 1)[-1], bare) or fnmatch(path, bare)
    return fnmatch(path, bare) or path.startswith(bare + "/")


def owners_of(rules: list[tuple[str, list[str]]], path: str) -> list[str]:
    """The owners of ``path``: the last matching line wins, as on GitHub."""
    owners: list[str] = []
    for pattern, names in rules:
        if _owns(pattern, path):
            owners = names
    return owners


def merge_requirements_missing(*, discussion: Discussion, user) -> list[str]:
    """What the target branch's rule still asks of ``discussion`` before ``user`` may merge it:
    one sentence per missing piece, naming the rule; empty when nothing is missing (no rule, a
    bypasser, or every requirement met)."""
    repo = discussion.repo
    branch = discussion.target_ref.removeprefix("refs/heads/")
    rule = branch_rule_find(repo=repo, branch=branch)
    if rule is None or is_bypasser(rule=rule, user=user):
        return []
    events = list(discussion.events.filter(type=DiscussionEventType.COMMIT) | _reviews(discussion))
    events.sort(key=lambda event: (event.created_at, event.pk))
    reviews = [
        review for review in review_summary(events).reviews
        if (role := repo_role(user=review.reviewer, repo=repo)) is not None and role >= Permission.WRITE
    ]  # fmt: skip
    approvals = [
        review for review in reviews
        if review.state == ReviewState.APPROVED and not (rule.dismiss_stale_approvals and review.stale)
    ]  # fmt: skip
    missing = []
    if len(approvals) < rule.required_approvals:
        stale = " (approvals given before the latest commit do not count)" if rule.dismiss_stale_approvals else ""
        missing.append(
            f"{rule.required_approvals} approving review{'s' if rule.required_approvals != 1 else ''} from "
            f"people with write access (required_approvals), {len(approvals)} given{stale}"
        )
    asking = sorted(r.reviewer.username for r in reviews if r.state == ReviewState.CHANGES_REQUESTED)
    if asking:
        missing.append(f"the changes {', '.join(asking)} requested: their review must approve first")
    head_oid = ref_target(repo=repo, ref=discussion.git_reference)
    if rule.required_checks:
        states = {check.name: check.state for check in commit_checks(repo=repo, commit_oid=head_oid)}
        for name in rule.required_checks:
            state = states.get(name)
            if state != CheckState.SUCCESS:
                found = f"is {state}" if state else "has not reported"
                missing.append(f"the required check '{name}' to pass on {head_oid[:7]} (required_checks): it {found}")
    if rule.code_owners:
        target_oid = ref_target(repo=repo, ref=discussion.target_ref)
        owners = code_owners(repo=repo, tree_oid=commit_get(repo=repo, oid=target_oid).tree_oid) if target_oid else []
        approvers = {review.reviewer.username.lower() for review in approvals}
        unowned = []
        for change in pull_request_changes(discussion=discussion).changes:
            names = owners_of(owners, change.path)
            if names and not approvers & set(names):
                unowned.append(f"{change.path} ({', '.join(names)})")
        if unowned:
            missing.append(f"an approval from a code owner of {', '.join(unowned[:10])} (code_owners)")
    return missing


def _reviews(discussion: Discussion):
    return discussion.events.filter(type=DiscussionEventType.COMMENT, data__has_key="review")
