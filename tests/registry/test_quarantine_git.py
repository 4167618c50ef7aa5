"""Pushing malicious pickles with the real ``git`` and ``git-lfs``: both the LFS object and a regular
file under a pickle name are scanned and quarantined; a clone still gets the LFS pointer, but
``git lfs pull`` is refused naming the scan."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from registry.choices import ScanStatus
from registry.models import BlobScan
from tests.registry.scan_files import malicious_pickle
from tests.support.git import git_user, needs_git
from tests.support.hf import hub_client

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_git]


def test_pushed_pickles_are_quarantined_and_lfs_pull_is_refused(live_server, tmp_path):
    canary = tmp_path / "canary"
    hub = hub_client(live_server.url)
    hub.api.create_repo("tiny")
    alice = git_user(tmp_path / "alice", username="alice", token=hub.token)
    clone = tmp_path / "clone"
    alice.run("clone", "-q", f"{hub.url}/alice/tiny", str(clone))
    alice.run("lfs", "install", cwd=clone)
    evil = malicious_pickle(canary)
    (clone / "evil.bin").write_bytes(evil)  # LFS: *.bin is in the default .gitattributes
    (clone / "state.dill").write_bytes(evil + b"\n")  # a regular git blob under a pickle name
    alice.run("add", ".", cwd=clone)
    alice.run("commit", "-q", "-m", "Add pickles", cwd=clone)
    alice.run("push", "-q", "origin", "main", cwd=clone)

    states = {scan.hint or "(lfs upload)": scan.state for scan in BlobScan.objects.all()}
    assert states == {"(lfs upload)": ScanStatus.DANGEROUS, "state.dill": ScanStatus.DANGEROUS}
    auth = {"Authorization": f"Bearer {hub.token}"}
    for path in ("evil.bin", "state.dill"):
        answer = httpx.get(f"{hub.url}/alice/tiny/resolve/main/{path}", headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (403, "file_quarantined")

    fresh = tmp_path / "fresh"
    alice.env["GIT_LFS_SKIP_SMUDGE"] = "1"
    alice.run("clone", "-q", f"{hub.url}/alice/tiny", str(fresh))
    pointer = (fresh / "evil.bin").read_text()
    assert f"oid sha256:{hashlib.sha256(evil).hexdigest()}" in pointer
    pulled = alice.run("lfs", "pull", cwd=fresh, check=False)
    assert pulled.returncode != 0
    assert "quarantined" in pulled.stderr
    assert (fresh / "evil.bin").read_text() == pointer
    assert not canary.exists()
