"""Who may do what in an organization: one table, read by every surface."""

from __future__ import annotations

from enum import StrEnum

from common.errors import PermissionDenied
from hub.choices import OrgRole


class OrgAction(StrEnum):
    READ_PRIVATE_REPOS = "read_private_repos"
    CREATE_REPO = "create_repo"
    WRITE_REPO = "write_repo"
    MANAGE_REPO = "manage_repo"  # settings, move, delete
    MANAGE_MEMBERS = "manage_members"
    EDIT_PROFILE = "edit_profile"


# The least powerful role allowed to perform each action.
ORG_PERMISSIONS: dict[OrgAction, OrgRole] = {
    OrgAction.READ_PRIVATE_REPOS: OrgRole.READ,
    OrgAction.CREATE_REPO: OrgRole.WRITE,
    OrgAction.WRITE_REPO: OrgRole.WRITE,
    OrgAction.MANAGE_REPO: OrgRole.ADMIN,
    OrgAction.MANAGE_MEMBERS: OrgRole.ADMIN,
    OrgAction.EDIT_PROFILE: OrgRole.ADMIN,
}


def role_allows(role: OrgRole | str | None, action: OrgAction) -> bool:
    if role is None:
        return False
    return OrgRole(role).rank >= ORG_PERMISSIONS[action].rank


def check_role_allows(role: OrgRole | str | None, action: OrgAction) -> None:
    if not role_allows(role, action):
        needed = ORG_PERMISSIONS[action].label.lower()
        raise PermissionDenied(f"This needs the '{needed}' role in the organization.")
