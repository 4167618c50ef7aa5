"""The uploader in real Chromium: a chosen folder and files dropped on the zone land in the target
folder, and a large upload interrupted part-way resumes where it stopped instead of starting again."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from registry.models import GitCommit
from registry.trees import tree_files
from tests.frontend.builders import make_repo
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
MIB = 1024 * 1024


@pytest.fixture
def signed_in(browser_page, fast_passwords):
    alice = make_user("alice", password=PASSWORD)
    repo = make_repo(alice, "tiny")
    page = browser_page.page
    page.goto("/login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("nav.nav")).to_contain_text("Log out")
    page.goto("/alice/tiny/upload/main")
    page.wait_for_selector("#upload-form[data-ready]")
    return browser_page, repo


def head_files(repo) -> dict[str, str]:
    head = GitCommit.objects.get(repo=repo, oid=repo.refs.get(name="refs/heads/main").target_oid)
    return {info.path: info.sha256 for info in tree_files(head.tree_oid)}


def test_dropped_files_and_a_chosen_folder_are_committed_into_the_target_folder(signed_in, tmp_path):
    ui, repo = signed_in
    page = ui.page
    (tmp_path / "eval" / "nested").mkdir(parents=True)
    (tmp_path / "eval" / "nested" / "scores.csv").write_bytes(b"task,score\n")
    page.set_input_files("#folder-input", str(tmp_path / "eval"))
    transfer = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(['print("hi")\\n'], 'train.py', {type: 'text/x-python'}));
            transfer.items.add(new File(['{"lr": 0.001}'], 'config.json', {type: 'application/json'}));
            return transfer;
        }"""
    )
    page.fill("#upload-directory", "/scripts//v1/")
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#upload-list .upload-name")).to_have_text(
        ["eval/nested/scores.csv", "train.py", "config.json"]
    )
    page.click("#upload-submit")
    expect(page.locator("#upload-status")).to_contain_text("Committed 3 files as")
    files = head_files(repo)
    assert files["scripts/v1/train.py"] == hashlib.sha256(b'print("hi")\n').hexdigest()
    assert files["scripts/v1/config.json"] == hashlib.sha256(b'{"lr": 0.001}').hexdigest()
    assert files["scripts/v1/eval/nested/scores.csv"] == hashlib.sha256(b"task,score\n").hexdigest()
    head = GitCommit.objects.get(repo=repo, oid=repo.refs.get(name="refs/heads/main").target_oid)
    assert head.title == "Upload 3 files"
    expect(page.locator("#upload-submit")).to_be_disabled()  # nothing left to commit


def test_interrupted_large_upload_resumes_with_the_missing_parts(signed_in, settings, tmp_path):
    settings.HUB_LFS_THRESHOLD_BYTES = MIB
    settings.HUB_MULTIPART_THRESHOLD_BYTES = MIB
    settings.HUB_MULTIPART_CHUNK_BYTES = MIB
    ui, repo = signed_in
    page = ui.page
    page.reload()  # the page reads the LFS threshold from the settings
    page.wait_for_selector("#upload-form[data-ready]")
    data = hashlib.sha256(b"seed").digest() * (3 * MIB // 32) + b"tail"  # 3 MiB and 4 bytes: 4 parts
    (tmp_path / "weights.bin").write_bytes(data)

    sent: list[str] = []

    def refuse_after_first_part(route):
        sent.append(route.request.url)
        if len(sent) == 1:
            route.continue_()
        else:
            route.fulfill(status=403, content_type="application/json", body='{"error": "simulated outage"}')

    page.route(re.compile(r"/api/lfs/parts/"), refuse_after_first_part)
    page.set_input_files("#file-input", [str(tmp_path / "weights.bin")])
    page.click("#upload-submit")
    expect(page.locator("#upload-status")).to_have_text("Upload failed: simulated outage")
    assert len(sent) == 2

    page.unroute(re.compile(r"/api/lfs/parts/"))
    resumed: list[str] = []
    page.on("request", lambda request: resumed.append(request.url) if "/api/lfs/parts/" in request.url else None)
    page.click("#upload-submit")
    expect(page.locator("#upload-status")).to_contain_text("Committed 1 file as")
    assert len(resumed) == 3  # parts 2, 3 and 4; part 1 arrived before the outage
    assert head_files(repo)["weights.bin"] == hashlib.sha256(data).hexdigest()
    ui.screenshot("13-upload-resumed")
