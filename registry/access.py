"""``access_repo``: fetch a repository and check what the caller may do with it, in one call."""

from __future__ import annotations

from enum import IntEnum

from django.urls import get_script_prefix

from common.errors import PermissionDenied, Unauthenticated
from hub.choices import NamespaceKind
from hub.models import Membership
from hub.permissions import OrgAction, role_allows
from registry.choices import AccessRequestStatus, RepoType
from registry.errors import GatedRepo, RepoDisabled, RepoNotFound
from registry.models import AccessRequest, Repo


class Permission(IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3


def repo_role(*, user, repo: Repo) -> Permission | None:
    """What ``user`` may do to ``repo`` by ownership or organization role (ignoring visibility)."""
    if user is None or not user.is_authenticated:
        return None
    namespace = repo.namespace
    if namespace.kind == NamespaceKind.USER:
        return Permission.ADMIN if namespace.user.pk == user.pk else None
    role = (
        Membership.objects.filter(organization__namespace=namespace, user=user).values_list("role", flat=True).first()
    )
    if role_allows(role, OrgAction.MANAGE_REPO):
        return Permission.ADMIN
    if role_allows(role, OrgAction.WRITE_REPO):
        return Permission.WRITE
    if role_allows(role, OrgAction.READ_PRIVATE_REPOS):
        return Permission.READ
    return None


def access_repo(
    *, user, repo_type: RepoType | str, namespace: str, name: str, need: Permission = Permission.READ, token=None
) -> Repo:
    """The repository ``namespace/name`` of ``repo_type`` if ``user`` may ``need`` it.

    Raises ``RepoNotFound`` when it does not exist *or* the caller may not see it (a private
    repository is indistinguishable from a missing one), and ``PermissionDenied`` when the caller
    sees it but lacks write or admin rights — or holds a read-only token (``Unauthenticated`` when
    an anonymous caller asks for more than reading).
    """
    repo = (
        Repo.objects.visible_to(user)
        .select_related("namespace__user", "namespace__organization")
        .filter(type=RepoType(repo_type), namespace__name__iexact=namespace, name__iexact=name)
        .first()
    )
    if repo is None:
        raise RepoNotFound(f"Repository {namespace}/{name} not found.")
    if need > Permission.READ:
        if user is None or not user.is_authenticated:
            raise Unauthenticated(f"Log in or pass a token to change {repo.repo_id}.")
        if token is not None and not token.can_write:
            raise PermissionDenied("This token is read-only; create a token with the 'write' role.")
        role = repo_role(user=user, repo=repo)
        if role is None or role < need:
            what = "write to" if need == Permission.WRITE else "administer"
            raise PermissionDenied(f"You are not allowed to {what} {repo.repo_id}.")
    return repo


def check_repo_enabled(*, repo: Repo) -> None:
    """A repository the moderators disabled serves its files to nobody, its owners included:
    ``RepoDisabled`` (451) names the moderation action and where the public log shows it."""
    if not repo.disabled:
        return
    log_path = f"{get_script_prefix()}moderation/log"
    if repo.disabled_action is not None:
        log_path += f"#action-{repo.disabled_action}"
    when = f" on {repo.disabled_at:%Y-%m-%d}" if repo.disabled_at else ""
    action = f"moderation action #{repo.disabled_action}" if repo.disabled_action else "a moderation action"
    raise RepoDisabled(
        f"Access to this resource is disabled: {repo.repo_id} was disabled by {action}{when}"
        f" (reason: {repo.disabled_reason or 'other'}). See {log_path}.",
        action=repo.disabled_action,
        reason=repo.disabled_reason or "other",
        log_path=log_path,
    )


def check_can_read_files(*, user, repo: Repo) -> None:
    """Gated repositories show their page to everyone but their files only to members, site staff
    and people whose access request was accepted (``registry.services.access_requests``).
    Disabled repositories serve files to nobody (``check_repo_enabled``); every download path
    (resolve, raw pages, LFS, Xet, git) passes here."""
    check_repo_enabled(repo=repo)
    if not repo.gated or (user is not None and user.is_staff) or repo_role(user=user, repo=repo) is not None:
        return
    if user is not None and user.is_authenticated:
        accepted = AccessRequest.objects.filter(repo=repo, user=user, status=AccessRequestStatus.ACCEPTED)
        if accepted.exists():
            return
    what = f"Access to {repo.repo_type.label.lower()} {repo.repo_id} is restricted"  # the Hub's wording
    if user is None or not user.is_authenticated:
        raise GatedRepo(f"{what}. You must have access to it and be authenticated to access it. Please log in.")
    raise GatedRepo(f"{what} and you are not in the authorized list. Visit {repo.web_path} to ask for access.")
