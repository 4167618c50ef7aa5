"""Enumerations of the hub app."""

from django.db import models


class NamespaceKind(models.TextChoices):
    USER = "user", "User"
    ORGANIZATION = "org", "Organization"


class OrgRole(models.TextChoices):
    """Roles inside an organization, from the most to the least powerful."""

    ADMIN = "admin", "Admin"
    WRITE = "write", "Write"
    READ = "read", "Read"

    @property
    def rank(self) -> int:
        return {"admin": 3, "write": 2, "read": 1}[self.value]


class TokenRole(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


class AuditAction(models.TextChoices):
    """What an audit event records. Codes are ``<area>.<verb>``; other apps add theirs here (branch
    rules, moderation) and record them through ``hub.services.audit.record``."""

    ORG_CREATE = "org.create", "Organization created"
    ORG_UPDATE = "org.update", "Organization settings changed"
    MEMBER_ADD = "member.add", "Member added"
    MEMBER_ROLE = "member.role", "Member role changed"
    MEMBER_REMOVE = "member.remove", "Member removed"
    MEMBER_LEAVE = "member.leave", "Member left"
    TOKEN_CREATE = "token.create", "Token created"
    TOKEN_REVOKE = "token.revoke", "Token revoked"
    REPO_CREATE = "repo.create", "Repository created"
    REPO_DELETE = "repo.delete", "Repository deleted"
    REPO_MOVE = "repo.move", "Repository moved"
    REPO_VISIBILITY = "repo.visibility", "Repository visibility changed"
    REPO_GATING = "repo.gating", "Repository gating changed"
    REPO_PLAYGROUND = "repo.playground", "Playground switched on or off"
    ACCESS_DECIDE = "access.decide", "Access request decided"
    ACCESS_GRANT = "access.grant", "Access granted"
    MODERATION_ACTION = "moderation.action", "Moderation action taken"
    BRANCH_RULE_SET = "branch_rule.set", "Branch rule set"
    BRANCH_RULE_DELETE = "branch_rule.delete", "Branch rule removed"
    BRANCH_RULE_BYPASS = "branch_rule.bypass", "Branch rule bypassed"
