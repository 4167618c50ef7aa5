"""Celery tasks of the registry: entry points that load ids and call one service each."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from registry.models import GitCommit, Ref, Repo
from registry.services.counters import counters_refresh
from registry.services.metadata import repo_stats_set
from registry.services.staging import upload_staging_cleanup
from registry.services.xet import xet_collect
from registry.trees import tree_files


@shared_task(ignore_result=True)
def repo_stats_refresh(repo_id: int) -> None:
    """Recompute the storage a repository's default branch uses. Safe to run twice."""
    repo = Repo.objects.filter(pk=repo_id).first()
    if repo is None:
        return
    head = Ref.objects.filter(repo=repo, name=f"refs/heads/{repo.default_branch}").values_list("target_oid", flat=True)
    tree = GitCommit.objects.filter(repo=repo, oid__in=head).values_list("tree_oid", flat=True).first()
    if tree is not None:
        repo_stats_set(repo_id=repo.pk, used_storage=sum(info.size for info in tree_files(tree)))


@shared_task(ignore_result=True)
def staging_janitor() -> int:
    """Remove what abandoned uploads left in staging (files, and bucket objects and multipart uploads)."""
    return upload_staging_cleanup(older_than_seconds=settings.HUB_STAGING_MAX_AGE_SECONDS).total


@shared_task(ignore_result=True)
def counters_refresh_task() -> int:
    """Refresh 30-day download counts and trending scores."""
    return counters_refresh()


@shared_task(ignore_result=True)
def xet_collect_task() -> int:
    """Remove Xet files no repository holds and xorbs no file names, past the retention period."""
    collected = xet_collect()
    return collected.files + collected.xorbs


@shared_task(ignore_result=True, acks_late=True, time_limit=3600, soft_time_limit=3500)
def blob_scan_task(blob_id: int) -> None:
    """Scan one blob for malware (``registry.services.scans.blob_scan``). Safe to run twice."""
    from registry.services.scans import blob_scan

    blob_scan(blob_id=blob_id)
