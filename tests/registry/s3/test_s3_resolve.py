"""Resolve and the LFS batch API with blobs in an S3-compatible bucket (moto's server): LFS files
are answered with a 302 to a presigned bucket URL that carries the metadata the client reads, only
after the gate, the malware-scan quarantine and the moderators' disabling had their say; regular
files are still served by the hub, read from the bucket."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from django.test import Client

from community.moderation.selectors import repo_target
from community.moderation.services import action_take
from registry.models import Repo
from registry.services.repos import repo_update_settings
from tests.community.moderation.helpers import make_moderator
from tests.frontend.builders import commit_files, make_repo
from tests.registry.scan_files import malicious_pickle
from tests.support.factories import make_token, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

WEIGHTS = b"weights kept in a bucket " * 64
SHA256 = hashlib.sha256(WEIGHTS).hexdigest()
README = b"# Tiny\n"


@pytest.fixture
def tiny(s3, settings, canary, django_capture_on_commit_callbacks):
    """alice/tiny on blobs in the bucket: README.md (regular), weights.bin (LFS), evil.pkl (LFS, quarantined)."""
    settings.STORAGES = s3.storages_setting(settings.STORAGES)
    settings.HUB_LFS_THRESHOLD_BYTES = 100
    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"README.md": README, "weights.bin": WEIGHTS, "evil.pkl": malicious_pickle(canary)})
    return repo, Client(HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}")


def test_lfs_files_redirect_to_a_presigned_url_carrying_the_client_metadata(s3, tiny):
    repo, owner = tiny
    commit = Repo.objects.get(pk=repo.pk).refs.get(name="refs/heads/main").target_oid
    for method in (owner.head, owner.get):
        answer = method("/alice/tiny/resolve/main/weights.bin")
        assert answer.status_code == 302
        assert answer["Location"].startswith(f"{s3.endpoint_url}/{s3.bucket}/sha256/{SHA256[:2]}/")
        assert (answer["X-Repo-Commit"], answer["X-Linked-Etag"], answer["X-Linked-Size"], answer["ETag"]) == (
            commit, f'"{SHA256}"', str(len(WEIGHTS)), f'"{SHA256}"',
        )  # fmt: skip
    fetched = httpx.get(answer["Location"])
    assert fetched.content == WEIGHTS
    assert fetched.headers["Content-Disposition"] == "inline; filename*=UTF-8''weights.bin"
    assert httpx.get(answer["Location"], headers={"Range": "bytes=8-15"}).content == WEIGHTS[8:16]
    # Unchanged content still answers 304, without a redirect.
    assert owner.get("/alice/tiny/resolve/main/weights.bin", HTTP_IF_NONE_MATCH=f'"{SHA256}"').status_code == 304

    readme = owner.get("/alice/tiny/resolve/main/README.md")
    assert readme.status_code == 200
    assert b"".join(readme.streaming_content) == README
    ranged = owner.get("/alice/tiny/resolve/main/README.md", HTTP_RANGE="bytes=2-5")
    assert (ranged.status_code, b"".join(ranged.streaming_content)) == (206, README[2:6])

    batch = {"operation": "download", "transfers": ["basic"], "objects": [{"oid": SHA256, "size": len(WEIGHTS)}]}
    answer = owner.post("/alice/tiny.git/info/lfs/objects/batch", batch, content_type="application/vnd.git-lfs+json")
    href = answer.json()["objects"][0]["actions"]["download"]["href"]
    assert href.startswith(s3.endpoint_url)
    assert httpx.get(href).content == WEIGHTS


def test_checks_come_before_the_redirect(tiny):
    repo, owner = tiny
    for method in (owner.head, owner.get):
        quarantined = method("/alice/tiny/resolve/main/evil.pkl")
        assert quarantined.status_code == 403
        assert "Location" not in quarantined
    assert quarantined.json()["code"] == "file_quarantined"

    repo_update_settings(repo=repo, gated="manual")
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(make_user('bob'))}")
    gated = outsider.get("/alice/tiny/resolve/main/weights.bin")
    assert (gated.status_code, gated["X-Error-Code"]) == (403, "GatedRepo")
    assert "Location" not in gated

    moderator = make_moderator()
    target = repo_target(user=moderator, repo_type="model", namespace="alice", name="tiny")
    action_take(moderator=moderator, kind="disable_repo", target=target, reason="malware", note="Confirmed.")
    disabled = owner.get("/alice/tiny/resolve/main/weights.bin")
    assert (disabled.status_code, disabled["X-Error-Code"]) == (451, "DisabledRepo")
    assert "Location" not in disabled
