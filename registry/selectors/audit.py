"""The audit log of one repository, for its admins (and site staff)."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import AuditEvent
from hub.selectors import AuditFilters, audit_log_of_repo
from registry.access import Permission, access_repo
from registry.choices import RepoType
from registry.models import Repo


def repo_audit_log(
    *, user, repo_type: RepoType | str, namespace: str, name: str, filters: AuditFilters
) -> tuple[Repo, QuerySet[AuditEvent]]:
    """The repository and its events, newest first. ``RepoNotFound`` for those who may not see it,
    ``PermissionDenied`` for those who see it but do not administer it. Reading the log is a read:
    a read token of an admin may."""
    staff = user is not None and user.is_authenticated and user.is_staff
    need = Permission.READ if staff else Permission.ADMIN
    repo = access_repo(user=user, repo_type=repo_type, namespace=namespace, name=name, need=need)
    return repo, audit_log_of_repo(repo_pk=repo.pk, filters=filters)
