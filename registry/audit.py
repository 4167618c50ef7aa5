"""Audit events about repositories (``hub.services.audit``): the repository's organization, if it
has one, sees them in its log too."""

from __future__ import annotations

from hub.choices import AuditAction, NamespaceKind
from hub.models import AuditEvent
from hub.services.audit import record
from registry.models import Repo


def repo_repr(repo: Repo) -> str:
    return f"{repo.repo_type.label.lower()} {repo.repo_id}"


def repo_audit_record(*, actor, action: AuditAction | str, repo: Repo, data: dict | None = None) -> AuditEvent:
    """Record ``action`` on ``repo`` by ``actor`` (see ``hub.services.audit.record``)."""
    namespace = repo.namespace
    org = namespace.organization if namespace.kind == NamespaceKind.ORGANIZATION else None
    return record(actor=actor, action=action, org=org, repo_id=repo.pk, target_repr=repo_repr(repo), data=data)
