"""What the community app does when signals fire: the hub's own checks on pull requests
(``card-lint``, ``malware-scan``) on every commit a pull request receives, and the scan check
again when a scan finishes; each run as a task."""

from __future__ import annotations

from django.dispatch import receiver

from community.signals import pull_request_committed
from registry.signals import blob_scanned


@receiver(pull_request_committed, dispatch_uid="community-pull-request-checks")
def check_pull_request(sender, *, discussion_id: int, commit_oid: str, **kwargs) -> None:
    from community.tasks import pull_request_checks_task

    pull_request_checks_task.delay(discussion_id, commit_oid)


@receiver(blob_scanned, dispatch_uid="community-scan-checks")
def refresh_scan_checks(sender, *, blob_id: int, **kwargs) -> None:
    from community.tasks import scan_checks_refresh_task

    scan_checks_refresh_task.delay_on_commit(blob_id)
