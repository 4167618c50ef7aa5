"""Turning a model's inference (playground, APIs, arena) on and off."""

from __future__ import annotations

from django.db import transaction

from hub.choices import AuditAction
from registry.access import Permission, access_repo
from registry.audit import repo_audit_record
from registry.choices import RepoType
from training_runner.inference.models import Playground
from training_runner.inference.selectors import check_pipeline


def playground_set(*, user, namespace: str, name: str, enabled: bool) -> Playground:
    """Switch inference on or off; only the model's admins may, and only for a served pipeline."""
    repo = access_repo(user=user, repo_type=RepoType.MODEL, namespace=namespace, name=name, need=Permission.ADMIN)
    if enabled:
        check_pipeline(repo)
    with transaction.atomic():
        before = Playground.objects.filter(repo=repo).values_list("enabled", flat=True).first() or False
        playground, _ = Playground.objects.update_or_create(
            repo=repo, defaults={"enabled": enabled, "updated_by": user if user.is_authenticated else None}
        )
        if before != enabled:
            repo_audit_record(
                actor=user, action=AuditAction.REPO_PLAYGROUND, repo=repo,
                data={"before": {"playground": before}, "after": {"playground": enabled}},
            )  # fmt: skip
    return playground
