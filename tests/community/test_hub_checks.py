"""The hub's own checks on pull requests: ``card-lint``, reported on every commit a pull request
receives, failing on a card a reviewer should not merge, and usable as a required check of a
branch rule; ``malware-scan``, the scans of the files at the pull request's head."""

import pytest

from community.card_lint import CARD_LINT_CHECK
from community.models import CommitCheck
from community.scan_check import SCAN_CHECK, scan_check_report
from community.services.branch_rules import BranchProtected, branch_rule_set
from community.services.discussions import pull_request_commit, pull_request_merge
from registry.choices import ScanStatus
from registry.models import BlobScan
from registry.selectors.revisions import ref_target
from registry.services.commits import AddFile
from registry.services.scans import blob_scan
from registry.storage import stage_bytes
from tests.community.helpers import propose
from tests.registry.scan_files import malicious_pickle, torch_checkpoint

pytestmark = pytest.mark.django_db

NO_LICENCE = b"---\ntags:\n- tiny\n---\n# Tiny\n"
GOOD = b"---\nlicense: mit\ntags:\n- tiny\n---\n# Tiny\n"


def card_check(repo, ref: str) -> CommitCheck:
    return CommitCheck.objects.get(repo=repo, commit_oid=ref_target(repo=repo, ref=ref), name=CARD_LINT_CHECK)


def test_the_card_check_fails_then_passes_and_gates_the_merge(alice, bob, repo, django_capture_on_commit_callbacks):
    branch_rule_set(repo=repo, branch="main", required_checks=[CARD_LINT_CHECK])
    with django_capture_on_commit_callbacks(execute=True):
        pr = propose(repo, bob, {"README.md": NO_LICENCE}, summary="Add a card")
    failed = card_check(repo, "refs/pr/1")
    assert (failed.state, failed.reporter) == ("failure", None)
    assert failed.summary == "1 problem: license: the card names no licence"
    with pytest.raises(BranchProtected, match="the required check 'card-lint' to pass"):
        pull_request_merge(discussion=pr, user=alice)

    with django_capture_on_commit_callbacks(execute=True):
        pull_request_commit(
            discussion=pr, user=bob, operations=[AddFile(path="README.md", staged=stage_bytes(GOOD))],
            summary="Name the licence",
        )  # fmt: skip
    passed = card_check(repo, "refs/pr/1")
    assert (passed.state, passed.summary) == ("success", "The card is valid.")
    pull_request_merge(discussion=pr, user=alice)
    assert ref_target(repo=repo, ref="refs/heads/main") == passed.commit_oid


def test_a_repository_without_a_card_fails_the_check(alice, bob, repo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        propose(repo, bob, {"notes.txt": b"no card here\n"})
    assert card_check(repo, "refs/pr/1").summary == "No README.md: the repository has no card."


def test_the_scan_check_reports_dangerous_and_clean_files(
    alice, bob, repo, tmp_path, django_capture_on_commit_callbacks
):
    canary = tmp_path / "canary"
    with django_capture_on_commit_callbacks(execute=True):
        propose(repo, bob, {"README.md": GOOD, "evil.pkl": malicious_pickle(canary), "model.pt": torch_checkpoint()})
    scan = CommitCheck.objects.get(repo=repo, commit_oid=ref_target(repo=repo, ref="refs/pr/1"), name=SCAN_CHECK)
    assert (scan.state, scan.reporter) == ("failure", None)
    assert scan.summary == "Dangerous files, quarantined: evil.pkl: dangerous."
    assert not canary.exists()

    with django_capture_on_commit_callbacks(execute=True):
        propose(repo, bob, {"README.md": GOOD, "model.pt": torch_checkpoint()}, summary="Only the checkpoint")
    clean = CommitCheck.objects.get(repo=repo, commit_oid=ref_target(repo=repo, ref="refs/pr/2"), name=SCAN_CHECK)
    assert (clean.state, clean.summary) == ("success", "1 scanned file, none dangerous.")


def test_the_scan_check_is_reported_again_when_a_scan_ends(
    alice, bob, repo, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        propose(repo, bob, {"README.md": GOOD, "evil.pkl": malicious_pickle(tmp_path / "canary")})
    head = ref_target(repo=repo, ref="refs/pr/1")
    # The scan is still running when the pull request's checks are reported...
    scan = BlobScan.objects.get(hint="evil.pkl")
    BlobScan.objects.filter(pk=scan.pk).update(state=ScanStatus.PENDING)
    scan_check_report(repo=repo, commit_oid=head)
    pending = CommitCheck.objects.get(repo=repo, commit_oid=head, name=SCAN_CHECK)
    assert (pending.state, pending.summary) == ("pending", "1 of 1 scanned files still being scanned.")
    # ... and when it ends, the check follows.
    with django_capture_on_commit_callbacks(execute=True):
        blob_scan(blob_id=scan.blob_id)
    pending.refresh_from_db()
    assert (pending.state, pending.summary) == ("failure", "Dangerous files, quarantined: evil.pkl: dangerous.")
