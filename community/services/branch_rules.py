"""Branch rules: set, delete, and the guard the registry asks before a branch moves
(``registry.hooks.ref_guards_check``). What a rule asks of a merge is read by
``community.rules.merge_requirements_missing`` and enforced by ``pull_request_merge``."""

from __future__ import annotations

from django.db import transaction

from common.errors import NotFound, PermissionDenied, ValidationError
from community.models import BranchRule
from community.rules import branch_rule_find, is_bypasser
from hub.choices import AuditAction
from registry.audit import repo_audit_record
from registry.hooks import RefAction
from registry.models import Repo
from registry.services.refs import ref_name_validate

MAX_REQUIRED_APPROVALS = 20
MAX_LISTED = 50


class BranchProtected(PermissionDenied):
    """A branch rule refuses the change; the message names the rule."""

    code = "branch_protected"
    default_message = "A branch rule protects this branch."


def _names(value, field: str, *, max_length: int) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_LISTED:
        raise ValidationError(f"{field} must be a list of at most {MAX_LISTED} names.", fields={field: ["A list."]})
    names = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > max_length:
            raise ValidationError(
                f"{field} holds names of 1 to {max_length} characters.", fields={field: ["Invalid name."]}
            )
        if item.strip() not in names:
            names.append(item.strip())
    return names


def branch_rule_set(
    *, repo: Repo, branch: str, require_pull_request: bool = True, required_approvals: int = 0,
    required_checks: list[str] | None = None, code_owners: bool = False, dismiss_stale_approvals: bool = False,
    bypass: list[str] | None = None, actor=None,
) -> BranchRule:  # fmt: skip
    """Create or replace the rule of ``branch`` (admins; the caller checks). The branch need not
    exist yet: a rule may wait for it. The audit log records the change as made by ``actor``."""
    branch = ref_name_validate(branch, kind="branch")
    if not 0 <= required_approvals <= MAX_REQUIRED_APPROVALS:
        raise ValidationError(
            f"required_approvals must be between 0 and {MAX_REQUIRED_APPROVALS}.",
            fields={"required_approvals": [f"0 to {MAX_REQUIRED_APPROVALS}."]},
        )
    values = {
        "require_pull_request": require_pull_request,
        "required_approvals": required_approvals,
        "required_checks": _names(required_checks or [], "required_checks", max_length=100),
        "code_owners": code_owners,
        "dismiss_stale_approvals": dismiss_stale_approvals,
        "bypass": _names(bypass or [], "bypass", max_length=39),
    }
    with transaction.atomic():
        before = BranchRule.objects.filter(repo=repo, branch=branch).values(*values).first()
        rule, _ = BranchRule.objects.update_or_create(repo=repo, branch=branch, defaults=values)
        repo_audit_record(
            actor=actor, action=AuditAction.BRANCH_RULE_SET, repo=repo,
            data={"branch": branch, "before": before, "after": values},
        )  # fmt: skip
    return rule


def branch_rule_delete(*, repo: Repo, branch: str, actor=None) -> None:
    """Remove the rule of ``branch`` (admins; the caller checks); recorded in the audit log."""
    with transaction.atomic():
        if BranchRule.objects.filter(repo=repo, branch=branch).delete()[0] == 0:
            raise NotFound(f"Branch {branch} has no rule.")
        repo_audit_record(actor=actor, action=AuditAction.BRANCH_RULE_DELETE, repo=repo, data={"branch": branch})


def branch_rule_guard(*, repo: Repo, user, ref: str, action: str) -> None:
    """Refuse what the rule of ``ref``'s branch forbids: direct commits and pushes when it
    requires pull requests (bypassers excepted), deleting or rewriting it (everyone: delete the
    rule first)."""
    branch = ref.removeprefix("refs/heads/")
    rule = branch_rule_find(repo=repo, branch=branch)
    if rule is None:
        return
    if action == RefAction.DELETE:
        raise BranchProtected(f"Branch {branch} is protected by a branch rule: it cannot be deleted.")
    if action == RefAction.REWRITE:
        raise BranchProtected(f"Branch {branch} is protected by a branch rule: its history cannot be rewritten.")
    if rule.require_pull_request and is_bypasser(rule=rule, user=user):
        # An override of the rule: the audit log keeps who went around it, and how.
        repo_audit_record(
            actor=user,
            action=AuditAction.BRANCH_RULE_BYPASS,
            repo=repo,
            data={"branch": branch, "ref_action": str(action)},
        )
        return
    if rule.require_pull_request:
        raise BranchProtected(
            f"Branch {branch} is protected by a branch rule (require_pull_request): changes reach it through "
            "a pull request; open one (create_pr) instead of committing to it."
        )
