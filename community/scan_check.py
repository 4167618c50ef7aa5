"""The hub's ``malware-scan`` check on pull requests: the malware scans of the files at a pull
request's head (``registry.selectors.scans``), reported through the checks API. Pending while a
scan runs, a failure when a file is dangerous (it is quarantined), an error when a file could
not be read; reported again whenever a scan of one of the repository's blobs finishes."""

from __future__ import annotations

from community.choices import CheckState, DiscussionStatus
from community.models import CommitCheck, Discussion
from community.services.checks import check_report
from registry.choices import ScanStatus
from registry.models import Repo, RepoBlob
from registry.selectors.revisions import commit_get, ref_target
from registry.selectors.scans import tree_scan_status

SCAN_CHECK = "malware-scan"
OPEN = (DiscussionStatus.OPEN, DiscussionStatus.DRAFT)


def scan_check_report(*, repo: Repo, commit_oid: str) -> CommitCheck:
    """Report the scan check on ``commit_oid`` (by the hub: no reporter)."""
    status = tree_scan_status(repo=repo, tree_oid=commit_get(repo=repo, oid=commit_oid).tree_oid)
    listed = "; ".join(f"{path}: {found.state}" for path, found in status.issues[:10])
    if status.state == ScanStatus.DANGEROUS:
        state, summary = CheckState.FAILURE, f"Dangerous files, quarantined: {listed}."
    elif status.pending:
        state, summary = CheckState.PENDING, f"{status.pending} of {status.scanned} scanned files still being scanned."
    elif status.state == ScanStatus.ERROR:
        state, summary = CheckState.ERROR, f"Files the scanner could not read: {listed}."
    elif status.issues:
        state, summary = CheckState.SUCCESS, f"No dangerous file; to look at: {listed}."
    else:
        files = f"{status.scanned} scanned file{'s' if status.scanned != 1 else ''}"
        state, summary = CheckState.SUCCESS, f"{files}, none dangerous."
    return check_report(
        repo=repo, user=None, commit_oid=commit_oid, name=SCAN_CHECK, state=state, summary=summary[:1000]
    )


def scan_checks_refresh(*, blob_id: int) -> int:
    """Report the scan check again on the head of every open pull request of the repositories that
    hold the blob whose scan just finished; how many were reported."""
    repo_ids = RepoBlob.objects.filter(blob_id=blob_id).values_list("repo_id", flat=True)
    reported = 0
    for pull_request in Discussion.objects.filter(
        repo_id__in=list(repo_ids), is_pull_request=True, status__in=OPEN
    ).select_related("repo"):
        head = ref_target(repo=pull_request.repo, ref=pull_request.git_reference)
        if head is not None:
            scan_check_report(repo=pull_request.repo, commit_oid=head)
            reported += 1
    return reported
