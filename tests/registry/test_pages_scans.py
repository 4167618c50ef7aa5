"""Scan results on the pages: badges on the file list, the file page's scan section (403 while
quarantined, the owner's release after a warning), the repository's security panel and its
conversion button."""

from __future__ import annotations

import pytest
from django.test import Client

from community.models import Discussion
from registry.choices import ConversionStatus
from registry.models import Conversion, ScanRelease
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401
from tests.registry.scan_files import SYSTEM_IMPORT, malicious_pickle, torch_checkpoint
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def repo(alice, canary, django_capture_on_commit_callbacks):
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"evil.pkl": malicious_pickle(canary), "model.pt": torch_checkpoint()})
    return repo


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_file_list_shows_a_badge_per_scanned_file(repo):
    page = _client().get("/alice/tiny/tree/main").content.decode()
    assert '<span class="badge scan-badge scan-dangerous" title="Malware scan (picklescan ' in page
    assert ">Quarantined</span>" in page
    assert '<span class="badge scan-badge scan-clean"' in page
    assert ">Scanned: safe</span>" in page


def test_quarantined_file_page_is_403_and_names_the_scan(repo, alice):
    bob = make_user("bob")
    answer = _client(bob).get("/alice/tiny/blob/main/evil.pkl")
    assert answer.status_code == 403
    page = answer.content.decode()
    assert f"dangerous imports {SYSTEM_IMPORT}" in page
    assert f"<code>{SYSTEM_IMPORT}</code>" in page
    assert 'id="quarantine-note"' in page
    assert 'id="release-form"' not in page
    owner = _client(alice).get("/alice/tiny/blob/main/evil.pkl")
    assert owner.status_code == 403
    assert 'id="release-form"' in owner.content.decode()
    assert _client(alice).get("/alice/tiny/blob/main/model.pt").status_code == 200


def test_owner_releases_after_the_warning_and_the_release_is_recorded(repo, alice):
    bob = make_user("bob")
    assert _client(bob).post("/alice/tiny/release/main/evil.pkl", {"confirm": "true"}).status_code == 403
    unconfirmed = _client(alice).post("/alice/tiny/release/main/evil.pkl", {"reason": "x"})
    assert unconfirmed.status_code == 400
    assert ScanRelease.objects.count() == 0
    done = _client(alice).post("/alice/tiny/release/main/evil.pkl", {"confirm": "true", "reason": "my own test file"})
    assert (done.status_code, done["Location"]) == (302, "/alice/tiny/blob/main/evil.pkl")
    release = ScanRelease.objects.get()
    assert (release.released_by, release.path, release.reason) == (alice, "evil.pkl", "my own test file")
    page = _client(bob).get("/alice/tiny/blob/main/evil.pkl")
    assert page.status_code == 200
    assert 'id="scan-released"' in page.content.decode()
    assert _client(bob).get("/alice/tiny/resolve/main/evil.pkl").status_code == 200


def test_repo_page_shows_the_security_panel_and_writers_convert(repo, alice, django_capture_on_commit_callbacks):
    bob_page = _client(make_user("bob")).get("/alice/tiny").content.decode()
    assert ">Dangerous files</span>" in bob_page
    assert '<a href="/alice/tiny/blob/main/evil.pkl#scan">evil.pkl</a>' in bob_page
    assert 'id="convert-form"' not in bob_page
    # evil.pkl is not a checkpoint name the conversion reads; model.pt is.
    owner_page = _client(alice).get("/alice/tiny").content.decode()
    assert 'id="convert-form"' in owner_page
    with django_capture_on_commit_callbacks(execute=True):
        answer = _client(alice).post("/alice/tiny/convert")
    assert (answer.status_code, answer["Location"]) == (302, "/alice/tiny")
    conversion = Conversion.objects.get()
    assert conversion.status == ConversionStatus.SUCCEEDED
    assert Discussion.objects.get(num=conversion.pull_request_num).is_pull_request
    after = _client(alice).get("/alice/tiny").content.decode()
    assert f'<a href="/alice/tiny/discussions/{conversion.pull_request_num}">pull request' in after


def test_commit_page_shows_the_scan_status_of_its_files(repo):
    head = repo.refs.get(name="refs/heads/main").target_oid
    page = _client().get(f"/alice/tiny/commit/{head}").content.decode()
    assert (
        '<dd id="commit-scan"><span class="badge scan-badge scan-dangerous">dangerous</span> 2 files scanned: '
        f'<a href="/alice/tiny/blob/{head}/evil.pkl#scan">evil.pkl</a> (Quarantined)</dd>'
    ) in page


def test_rest_scan_status_of_a_commit(repo, client):
    answer = client.get("/api/v1/repos/models/alice/tiny/scans/main")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["commit"], body["state"], body["scans_done"]) == (
        repo.refs.get(name="refs/heads/main").target_oid,
        "dangerous",
        True,
    )
    files = {row["path"]: row for row in body["files"]}
    assert sorted(files) == ["evil.pkl", "model.pt"]
    assert {k: files["evil.pkl"][k] for k in ("state", "quarantined", "released", "scanner", "issues")} == {
        "state": "dangerous",
        "quarantined": True,
        "released": False,
        "scanner": "picklescan",
        "issues": [],
    }
    assert files["evil.pkl"]["findings"] == [
        {"module": SYSTEM_IMPORT.split(".")[0], "name": "system", "safety": "dangerous", "entry": ""}
    ]
    assert files["model.pt"]["state"] == "clean"
    assert client.get("/api/v1/repos/models/alice/tiny/scans/nope").status_code == 404
