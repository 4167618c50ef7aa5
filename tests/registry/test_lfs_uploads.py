"""The LFS path (upload policy ``lfs``, clients with HF_HUB_DISABLE_XET=1) and upload faults."""

import hashlib
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, constants, snapshot_download

from registry.models import Blob, Repo, RepoBlob, UploadSession
from registry.storage import blob_storage, staging_dir
from tests.support.hf import hub_client, random_bytes, read_tree, write_tree

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lfs_hub(hub, settings, monkeypatch):
    settings.HUB_UPLOAD_POLICY = "lfs"
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    hub.api.create_repo("tiny")
    return hub


def _staging_files():
    return [p for p in staging_dir().rglob("*") if p.is_file()]


@pytest.mark.slow
def test_upload_folder_through_lfs_batch_put_and_verify(lfs_hub, tmp_path):
    files = {
        "README.md": b"# Tiny\n",
        "config.json": b'{"hidden_size": 8}',
        "sub/w.bin": random_bytes(3 * 1024 * 1024, seed=11),
        "model.safetensors": random_bytes(20 * 1024 * 1024, seed=12),
    }
    write_tree(tmp_path / "src", files)
    lfs_hub.api.upload_folder(folder_path=tmp_path / "src", repo_id="alice/tiny")
    target = snapshot_download("alice/tiny", endpoint=lfs_hub.url, token=lfs_hub.token, local_dir=tmp_path / "out")
    downloaded = read_tree(target)
    assert {k: v for k, v in downloaded.items() if k != ".gitattributes"} == files
    siblings = {s.rfilename: s for s in lfs_hub.api.model_info("alice/tiny", files_metadata=True).siblings}
    assert siblings["sub/w.bin"].lfs.sha256 == hashlib.sha256(files["sub/w.bin"]).hexdigest()
    assert siblings["model.safetensors"].lfs.size == 20 * 1024 * 1024
    assert siblings["config.json"].lfs is None
    assert Blob.objects.filter(sha256=hashlib.sha256(files["model.safetensors"]).hexdigest()).count() == 1
    assert _staging_files() == []


@pytest.mark.slow
def test_multipart_upload(lfs_hub, settings, tmp_path):
    settings.HUB_MULTIPART_THRESHOLD_BYTES = 1024 * 1024
    settings.HUB_MULTIPART_CHUNK_BYTES = 5 * 1024 * 1024
    data = random_bytes(12 * 1024 * 1024 + 7, seed=13)
    lfs_hub.api.upload_file(path_or_fileobj=data, path_in_repo="big.bin", repo_id="alice/tiny")
    session = UploadSession.objects.get()
    assert (session.status, session.part_count) == ("completed", 3)
    out = snapshot_download("alice/tiny", endpoint=lfs_hub.url, token=lfs_hub.token, local_dir=tmp_path / "out")
    assert (tmp_path / "out" / "big.bin").read_bytes() == data
    assert out == str(tmp_path / "out")
    assert _staging_files() == []


def _batch(hub, objects, operation="upload", token=None):
    return httpx.post(
        f"{hub.url}/alice/tiny.git/info/lfs/objects/batch",
        json={"operation": operation, "transfers": ["basic"], "objects": objects, "hash_algo": "sha256"},
        headers={"Authorization": f"Bearer {token or hub.token}", "Content-Type": "application/vnd.git-lfs+json"},
    )


def test_sha256_mismatch_is_refused_and_leaves_nothing(lfs_hub):
    data = b"real content" * 100
    claimed = hashlib.sha256(b"something else").hexdigest()
    answer = _batch(lfs_hub, [{"oid": claimed, "size": len(data)}]).json()["objects"][0]
    put = httpx.put(answer["actions"]["upload"]["href"], content=data)
    assert put.status_code == 400
    assert "Checksum mismatch" in put.json()["error"]
    assert Blob.objects.count() == Blob.objects.filter(repo_links__isnull=False).count()
    assert not Blob.objects.filter(sha256=claimed).exists()
    assert _staging_files() == []


def test_size_mismatch_is_refused(lfs_hub):
    data = b"x" * 1000
    oid = hashlib.sha256(data).hexdigest()
    answer = _batch(lfs_hub, [{"oid": oid, "size": 999}]).json()["objects"][0]
    put = httpx.put(answer["actions"]["upload"]["href"], content=data)
    assert put.status_code == 400
    assert put.json()["error"] == "More bytes than the declared size of 999."
    assert not Blob.objects.filter(sha256=oid).exists()


def test_interrupted_put_leaves_no_visible_object(lfs_hub):
    data = random_bytes(200_000, seed=14)
    oid = hashlib.sha256(data).hexdigest()
    href = _batch(lfs_hub, [{"oid": oid, "size": len(data)}]).json()["objects"][0]["actions"]["upload"]["href"]
    parts = urlsplit(href)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        head = f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(data)}\r\n\r\n"
        sock.sendall(head.encode() + data[:50_000])
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)
    deadline = time.monotonic() + 10
    while _staging_files() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Blob.objects.filter(sha256=oid).exists()
    assert not blob_storage().exists(f"sha256/{oid[:2]}/{oid[2:4]}/{oid}")
    assert _staging_files() == []
    # The object is still to be uploaded, and a commit naming it is refused.
    again = _batch(lfs_hub, [{"oid": oid, "size": len(data)}]).json()["objects"][0]
    assert "actions" in again


def test_commit_cannot_claim_content_of_another_repository(lfs_hub, live_server):
    data = b"secret weights" * 1000
    oid = hashlib.sha256(data).hexdigest()
    lfs_hub.api.create_repo("private-src", private=True)
    lfs_hub.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id="alice/private-src")
    mallory = hub_client(live_server.url, "mallory")
    mallory.api.create_repo("grab")
    answer = httpx.post(
        f"{mallory.url}/mallory/grab.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(data)}]},
        headers={"Authorization": f"Bearer {mallory.token}"},
    ).json()["objects"][0]
    assert "actions" in answer  # knowing the hash is not enough: the bytes must be sent
    payload = "\n".join(
        json.dumps(line)
        for line in (
            {"key": "header", "value": {"summary": "grab"}},
            {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": oid, "size": len(data)}},
        )
    )
    commit = httpx.post(
        f"{mallory.url}/api/models/mallory/grab/commit/main",
        content=payload,
        headers={"Authorization": f"Bearer {mallory.token}", "Content-Type": "application/x-ndjson"},
    )
    assert commit.status_code == 400
    assert "was not uploaded to this repository" in commit.json()["error"]
    assert RepoBlob.objects.filter(repo__name="grab", blob__sha256=oid).count() == 0


def test_create_commit_with_file_objects_uses_lfs(lfs_hub, tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(random_bytes(50_000, seed=15))
    with open(path, "rb") as handle:
        lfs_hub.api.create_commit(
            "alice/tiny", operations=[CommitOperationAdd("weights.bin", handle)], commit_message="file object"
        )
    info = {s.rfilename: s for s in lfs_hub.api.model_info("alice/tiny", files_metadata=True).siblings}
    assert info["weights.bin"].lfs.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_malformed_batch_request_is_a_clear_400(lfs_hub):
    response = httpx.post(
        f"{lfs_hub.url}/alice/tiny.git/info/lfs/objects/batch",
        content=b"{not json",
        headers={"Authorization": f"Bearer {lfs_hub.token}", "Content-Type": "application/vnd.git-lfs+json"},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("The request body is not valid JSON")
    assert _batch(lfs_hub, [{"oid": "not-a-hash", "size": 1}]).json()["objects"][0]["error"] == {
        "code": 422, "message": "Invalid object id 'not-a-hash': expected a sha256 in hex."
    }  # fmt: skip


def test_signed_download_of_an_object_the_repo_lacks_is_404(lfs_hub):
    from django.urls import reverse

    from registry.hf.lfs import _sign

    token = _sign(r=Repo.objects.get(name="tiny").pk, o="0" * 64, s=3)
    response = httpx.get(lfs_hub.url + reverse("lfs-object", kwargs={"token": token}))
    assert response.status_code == 404
    assert response.json()["error"] == f"Object {'0' * 64} is not stored in this repository."
