"""The stock client (huggingface_hub + hf_xet, no environment flags) uploading through the hub's Xet CAS."""

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from huggingface_hub import CommitOperationAdd, constants, hf_hub_download, snapshot_download
from safetensors.numpy import save as safetensors_save

from registry.models import Blob, XetFile
from tests.support.hf import hub_client, random_bytes, read_tree, write_tree

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MB = 1_000_000


def _tensor_file(size: int, seed: int) -> bytes:
    """A safetensors file of float32 weights, ``size`` bytes long."""
    rng = np.random.default_rng(seed)
    header_guess = 128
    weights = rng.normal(0, 0.02, (size - header_guess) // 4).astype("<f4")
    data = safetensors_save({"weight": weights})
    return data[:size] if len(data) >= size else data + bytes(size - len(data))


def _files(seed: int) -> dict[str, bytes]:
    return {
        "empty.bin": b"",
        "one.bin": b"\xff",
        "random_9mb.bin": random_bytes(9 * MB, seed=seed),
        "random_30mb.bin": random_bytes(30 * MB, seed=seed + 1),
        "model.safetensors": _tensor_file(30 * MB, seed=seed + 2),
    }


def _xet_paths(requests_seen) -> list[str]:
    """``METHOD v1/route`` of every CAS request seen."""
    return [f"{r.method} {'/'.join(r.path.split('/')[2:4])}" for r in requests_seen if r.path.startswith("/xet/")]


def _lfs_shas(hub, repo_id: str) -> dict[str, str | None]:
    siblings = hub.api.model_info(repo_id, files_metadata=True).siblings
    return {s.rfilename: s.lfs.sha256 if s.lfs else None for s in siblings}


@pytest.mark.slow
def test_upload_file_of_every_size_then_hf_hub_download_is_byte_identical(xet_hub, counters, tmp_path):
    files = _files(seed=40)
    for name, data in files.items():
        xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id="alice/tiny")
    # The empty file goes inline (the client forces it); every other file through Xet.
    assert counters() | {"xorb_bytes_stored": 0} == {
        "xorbs_received": 4,
        "xorbs_inserted": 4,
        "xorb_bytes_stored": 0,
        "shards_received": 4,
        "files_registered": 4,
        "reconstructions": 0,
    }
    # *.bin and *.safetensors are LFS patterns of the default .gitattributes; the empty file, sent
    # inline, stays a regular file, as on the Hub.
    assert _lfs_shas(xet_hub, "alice/tiny") == {".gitattributes": None} | {
        name: hashlib.sha256(data).hexdigest() if data else None for name, data in files.items()
    }
    for name, data in files.items():
        path = hf_hub_download("alice/tiny", name, endpoint=xet_hub.url, token=xet_hub.token, cache_dir=tmp_path)
        assert Path(path).read_bytes() == data, name
    ranged = httpx.get(
        f"{xet_hub.url}/alice/tiny/resolve/main/random_30mb.bin",
        headers={"Authorization": f"Bearer {xet_hub.token}", "Range": "bytes=12345678-12345699"},
    )
    assert (ranged.status_code, ranged.content) == (206, files["random_30mb.bin"][12345678:12345700])


@pytest.mark.slow
def test_upload_folder_then_snapshot_download_is_byte_identical(xet_hub, counters, requests_seen, tmp_path):
    files = _files(seed=50) | {"README.md": b"# Tiny\n", "config.json": b'{"hidden_size": 8}'}
    write_tree(tmp_path / "src", files)
    xet_hub.api.upload_folder(folder_path=tmp_path / "src", repo_id="alice/tiny", commit_message="Add model")
    assert counters()["files_registered"] == 4
    assert sorted(set(_xet_paths(requests_seen))) == [
        "GET v1/chunks",
        "POST v1/shards",
        "POST v1/xorb-grants",
        "POST v1/xorbs",
        "POST v2/shards",
    ]
    target = snapshot_download("alice/tiny", endpoint=xet_hub.url, token=xet_hub.token, local_dir=tmp_path / "out")
    downloaded = read_tree(target)
    assert {k: v for k, v in downloaded.items() if k != ".gitattributes"} == files
    assert XetFile.objects.count() == 4
    assert Blob.objects.filter(sha256=hashlib.sha256(files["model.safetensors"]).hexdigest()).count() == 1


def test_reuploading_the_same_30mb_sends_no_xorb_even_to_other_repositories(xet_hub, counters, live_server, tmp_path):
    data = random_bytes(30 * MB, seed=60)
    xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo="a.bin", repo_id="alice/tiny")
    first = counters()
    assert (first["xorbs_received"], first["shards_received"], first["files_registered"]) == (1, 1, 1)
    counters.reset()
    xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo="b.bin", repo_id="alice/tiny")
    xet_hub.api.create_repo("other")
    xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo="c.bin", repo_id="alice/other")
    # Xorbs are global: another user's upload of the same bytes reuses them too (same client cache).
    bob = hub_client(live_server.url, username="bob")
    bob.api.create_repo("copy", private=True)
    bob.api.upload_file(path_or_fileobj=data, path_in_repo="d.bin", repo_id="bob/copy")
    assert counters() == {
        "xorbs_received": 0,
        "xorbs_inserted": 0,
        "xorb_bytes_stored": 0,
        "shards_received": 3,
        "files_registered": 0,
        "reconstructions": 0,
    }
    path = hf_hub_download("bob/copy", "d.bin", endpoint=bob.url, token=bob.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == data


def test_create_pr_uploads_go_through_xet_also_for_readers(xet_hub, live_server, requests_seen, tmp_path):
    data = random_bytes(2 * MB, seed=70)
    info = xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo="pr.bin", repo_id="alice/tiny", create_pr=True)
    assert info.pr_revision == "refs/pr/1"
    # bob cannot write to alice/tiny but may propose changes; upload_folder opens the PR first.
    bob = hub_client(live_server.url, username="bob")
    proposal = {"w.bin": random_bytes(3 * MB, seed=71), "notes.txt": b"from bob\n"}
    write_tree(tmp_path / "src", proposal)
    bob_info = bob.api.upload_folder(folder_path=tmp_path / "src", repo_id="alice/tiny", create_pr=True)
    assert bob_info.pr_revision == "refs/pr/2"
    assert [(r.path, r.query) for r in requests_seen if "xet-write-token" in r.path] == [
        ("/api/models/alice/tiny/xet-write-token/None", "create_pr=1"),
        ("/api/models/alice/tiny/xet-write-token/main", "create_pr=1"),
    ]
    for revision, name, expected in [("refs/pr/1", "pr.bin", data), ("refs/pr/2", "w.bin", proposal["w.bin"])]:
        path = hf_hub_download(
            "alice/tiny", name, revision=revision, endpoint=xet_hub.url, token=xet_hub.token, cache_dir=tmp_path
        )
        assert Path(path).read_bytes() == expected
    assert xet_hub.api.list_repo_files("alice/tiny") == [".gitattributes"]


def test_clients_without_xet_still_upload_through_the_lfs_batch_api(xet_hub, requests_seen, monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    data = random_bytes(3 * MB, seed=80)
    xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id="alice/tiny")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    # File objects never go through Xet, whatever the client has installed.
    xet_hub.api.create_commit(
        "alice/tiny", operations=[CommitOperationAdd("f.bin", io.BytesIO(data[::-1]))], commit_message="file object"
    )
    assert _xet_paths(requests_seen) == []
    assert [r.path for r in requests_seen if r.path.endswith("/objects/batch")] == [
        "/alice/tiny.git/info/lfs/objects/batch",
        "/alice/tiny.git/info/lfs/objects/batch",
    ]
    assert _lfs_shas(xet_hub, "alice/tiny")["w.bin"] == hashlib.sha256(data).hexdigest()
    path = hf_hub_download("alice/tiny", "f.bin", endpoint=xet_hub.url, token=xet_hub.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == data[::-1]


def test_downloads_go_through_xet_only_when_advertised(xet_hub, settings, counters, requests_seen, tmp_path):
    data = random_bytes(9 * MB, seed=90)
    commit = xet_hub.api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id="alice/tiny").oid
    xet_hash = XetFile.objects.get().file_hash
    resolve = f"{xet_hub.url}/alice/tiny/resolve/main/w.bin"
    auth = {"Authorization": f"Bearer {xet_hub.token}"}
    assert "X-Xet-Hash" not in httpx.head(resolve, headers=auth).headers
    assert "xetHash" not in httpx.get(f"{xet_hub.url}/api/models/alice/tiny/tree/main", headers=auth).json()[1]

    settings.HUB_XET_DOWNLOADS = True
    head = httpx.head(resolve, headers=auth)
    assert head.headers["X-Xet-Hash"] == xet_hash
    assert head.links["xet-auth"]["url"] == f"{xet_hub.url}/api/models/alice/tiny/xet-read-token/{commit}"
    assert head.headers["X-Linked-Etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    tree = httpx.get(f"{xet_hub.url}/api/models/alice/tiny/tree/main", headers=auth).json()
    assert [(e["path"], e.get("xetHash")) for e in tree] == [(".gitattributes", None), ("w.bin", xet_hash)]
    counters.reset()
    requests_seen.clear()
    path = hf_hub_download("alice/tiny", "w.bin", endpoint=xet_hub.url, token=xet_hub.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == data
    snapshot = snapshot_download("alice/tiny", endpoint=xet_hub.url, token=xet_hub.token, local_dir=tmp_path / "s")
    assert (Path(snapshot) / "w.bin").read_bytes() == data
    assert counters()["reconstructions"] == 2
    seen = {(r.method, r.path.split("/")[2] if r.path.startswith("/xet/") else r.path) for r in requests_seen}
    assert ("GET", f"/api/models/alice/tiny/xet-read-token/{commit}") in seen
    assert {("GET", "v1"), ("GET", "data")} <= seen
    assert ("GET", "/alice/tiny/resolve/main/w.bin") not in seen
    assert ("GET", f"/alice/tiny/resolve/{commit}/w.bin") not in seen


def test_hf_cli_uploads_through_xet(xet_hub, counters, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_DISABLE_IMPLICIT_TOKEN"}
    env |= {"HF_ENDPOINT": xet_hub.url, "HF_TOKEN": xet_hub.token, "HF_HOME": str(tmp_path / "home")}
    hf = os.path.join(os.path.dirname(sys.executable), "hf")
    data = random_bytes(2 * MB, seed=100)
    (tmp_path / "w.bin").write_bytes(data)
    upload = subprocess.run(
        [hf, "upload", "alice/tiny", str(tmp_path / "w.bin"), "w.bin"], env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert upload.returncode == 0, upload.stderr
    assert (counters()["xorbs_inserted"], counters()["files_registered"]) == (1, 1)
    download = subprocess.run(
        [hf, "download", "alice/tiny", "w.bin", "--local-dir", str(tmp_path / "d")], env=env, capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip
    assert download.returncode == 0, download.stderr
    assert (tmp_path / "d" / "w.bin").read_bytes() == data
