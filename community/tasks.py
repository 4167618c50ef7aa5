"""Celery tasks of the community app: entry points that load ids and call one service each."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True, time_limit=7200, soft_time_limit=7000)
def conversion_run_task(conversion_id: int) -> None:
    """Convert checkpoints to safetensors (``community.conversion.conversion_run``). Safe to run twice."""
    from community.conversion import conversion_run

    conversion_run(conversion_id=conversion_id)


@shared_task(ignore_result=True, acks_late=True, time_limit=300)
def pull_request_checks_task(discussion_id: int, commit_oid: str) -> None:
    """Report the hub's own checks on a pull request's new commit: ``card-lint``
    (``community.card_lint``) and ``malware-scan`` (``community.scan_check``)."""
    from community.card_lint import card_lint_report
    from community.models import Discussion
    from community.scan_check import scan_check_report

    discussion = Discussion.objects.select_related("repo").filter(pk=discussion_id).first()
    if discussion is not None:
        card_lint_report(repo=discussion.repo, commit_oid=commit_oid)
        scan_check_report(repo=discussion.repo, commit_oid=commit_oid)


@shared_task(ignore_result=True, acks_late=True, time_limit=300)
def scan_checks_refresh_task(blob_id: int) -> None:
    """A blob's scan finished: report ``malware-scan`` again on the open pull requests that may
    hold it (``community.scan_check``)."""
    from community.scan_check import scan_checks_refresh

    scan_checks_refresh(blob_id=blob_id)
