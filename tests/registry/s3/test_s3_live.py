"""The stock ``huggingface_hub`` client against a hub whose blobs live in an S3-compatible bucket
(moto's server): uploads on the LFS path go to presigned bucket URLs and are verified by the hub
before they are promoted, uploads on the Xet path store xorbs in the bucket, and downloads are
redirected to presigned URLs: the hub's process receives next to nothing of a large LFS upload and
sends next to nothing of a large download (counted on the wire by a relay in front of it)."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from huggingface_hub import constants, hf_hub_download

from registry.models import Blob, XetFile, blob_storage_key
from tests.registry.s3.conftest import MIB, MULTIPART_THRESHOLD
from tests.support.hf import random_bytes

pytestmark = [pytest.mark.live, pytest.mark.slow]

# The large download of the bytes-out check (HUB_TEST_S3_LARGE_MIB to change it).
LARGE = int(os.environ.get("HUB_TEST_S3_LARGE_MIB", "200")) * MIB
# What the hub may send while a client downloads a large file: headers and small JSON answers.
NEAR_ZERO = 256 * 1024
# The machines that run the suite are often busy: generous timeouts for the hub's verifications.
HTTP = httpx.Client(timeout=300)
LFS = {"Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json"}


def _auth(hub) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.token}"}


def _write_random(path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            chunk = os.urandom(min(remaining, 16 * MIB))
            digest.update(chunk)
            handle.write(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def _sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(16 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def test_lfs_path_uploads_to_the_bucket_and_downloads_redirect_to_it(s3_hub, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    large, small = tmp_path / "large.bin", tmp_path / "small.bin"
    large_sha, small_sha = _write_random(large, LARGE), _write_random(small, 3 * MIB)
    api = s3_hub.api
    api.upload_file(path_or_fileobj=str(small), path_in_repo="small.bin", repo_id="alice/big")  # one PUT
    received_before = s3_hub.bytes_received()
    api.upload_file(path_or_fileobj=str(large), path_in_repo="large.bin", repo_id="alice/big")  # parts
    received = s3_hub.bytes_received() - received_before
    assert received < NEAR_ZERO, f"the hub received {received} bytes of an upload of {LARGE}"

    keys = set(s3_hub.s3.keys())
    assert {blob_storage_key(large_sha), blob_storage_key(small_sha)} <= keys
    assert not [key for key in keys if key.startswith("staging/")]
    assert Blob.objects.filter(sha256__in=[large_sha, small_sha]).count() == 2

    resolve = f"{s3_hub.url}/alice/big/resolve/main/large.bin"
    head = HTTP.head(resolve, headers=_auth(s3_hub))
    assert head.status_code == 302
    assert head.headers["Location"].startswith(s3_hub.s3.endpoint_url + "/")
    assert head.headers["X-Linked-Etag"] == f'"{large_sha}"'
    assert head.headers["X-Linked-Size"] == str(LARGE)
    assert head.headers["ETag"] == f'"{large_sha}"'
    assert len(head.headers["X-Repo-Commit"]) == 40
    # The presigned URL needs no token and answers ranges itself.
    ranged = HTTP.get(head.headers["Location"], headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    with open(large, "rb") as handle:
        handle.seek(10)
        assert ranged.content == handle.read(10)

    sent_before = s3_hub.bytes_sent()
    path = hf_hub_download("alice/big", "large.bin", endpoint=s3_hub.url, token=s3_hub.token, cache_dir=tmp_path / "c")
    sent = s3_hub.bytes_sent() - sent_before
    assert _sha256_of(path) == large_sha
    assert sent < NEAR_ZERO, f"the hub sent {sent} bytes for a download of {LARGE}"
    small_path = hf_hub_download("alice/big", "small.bin", endpoint=s3_hub.url, token=s3_hub.token, cache_dir=tmp_path)
    assert _sha256_of(small_path) == small_sha


def test_xet_path_stores_xorbs_in_the_bucket_and_reads_them_from_it(s3_hub, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    data = random_bytes(24 * MIB, seed=7)
    sha256 = hashlib.sha256(data).hexdigest()
    s3_hub.api.upload_file(path_or_fileobj=data, path_in_repo="weights.bin", repo_id="alice/big")
    assert XetFile.objects.filter(sha256=sha256).exists()
    keys = s3_hub.s3.keys()
    assert any(key.startswith("xorbs/") for key in keys)
    assert blob_storage_key(sha256) in keys  # the rebuilt file, verified against its sha256

    # The reconstruction hands out presigned bucket URLs, so the hub sends JSON, not the file.
    token = HTTP.get(f"{s3_hub.url}/api/models/alice/big/xet-read-token/main", headers=_auth(s3_hub)).json()
    file_hash = XetFile.objects.get(sha256=sha256).file_hash
    answer = HTTP.get(
        f"{token['casUrl']}/v1/reconstructions/{file_hash}", headers={"Authorization": f"Bearer {token['accessToken']}"}
    ).json()
    urls = [fetch["url"] for fetches in answer["fetch_info"].values() for fetch in fetches]
    assert urls
    assert all(url.startswith(s3_hub.s3.endpoint_url + "/") for url in urls)

    sent_before = s3_hub.bytes_sent()
    path = hf_hub_download("alice/big", "weights.bin", endpoint=s3_hub.url, token=s3_hub.token, cache_dir=tmp_path)
    sent = s3_hub.bytes_sent() - sent_before
    assert _sha256_of(path) == sha256
    assert sent < NEAR_ZERO, f"the hub sent {sent} bytes for a Xet download of {len(data)}"


def _batch_upload(hub, oid: str, size: int, transfers: list[str]) -> dict:
    body = {"operation": "upload", "transfers": transfers, "objects": [{"oid": oid, "size": size}]}
    answer = HTTP.post(f"{hub.url}/alice/big.git/info/lfs/objects/batch", json=body, headers=_auth(hub) | LFS)
    assert answer.status_code == 200, answer.text
    return answer.json()["objects"][0]["actions"]


def _nothing_promoted(hub, oid: str) -> None:
    assert not Blob.objects.filter(sha256=oid).exists()
    assert hub.s3.keys(blob_storage_key(oid)) == []
    assert hub.s3.keys("staging/") == []


def test_bad_direct_uploads_are_refused_and_nothing_is_promoted(s3_hub):
    good = random_bytes(2 * MIB, seed=1)
    oid, size = hashlib.sha256(good).hexdigest(), len(good)

    actions = _batch_upload(s3_hub, oid, size, ["basic"])
    assert actions["upload"]["href"].startswith(s3_hub.s3.endpoint_url + "/")
    verify = actions["verify"]["href"]
    assert HTTP.post(verify, json={"oid": oid, "size": size}).json()["error"] == (
        f"Object {oid} was not received; upload it again."
    )
    assert HTTP.put(actions["upload"]["href"], content=random_bytes(size, seed=2)).status_code == 200
    refused = HTTP.post(verify, json={"oid": oid, "size": size})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("Checksum mismatch: the uploaded content hashes to ")
    _nothing_promoted(s3_hub, oid)

    actions = _batch_upload(s3_hub, oid, size, ["basic"])
    assert HTTP.put(actions["upload"]["href"], content=good[:-1]).status_code == 200
    refused = HTTP.post(actions["verify"]["href"], json={"oid": oid, "size": size})
    assert refused.status_code == 400
    assert refused.json()["error"] == f"Received {size - 1} bytes, but the declared size is {size}; upload it again."
    _nothing_promoted(s3_hub, oid)

    # Multipart: a missing part is named; a forged part is caught after assembly.
    big = random_bytes(MULTIPART_THRESHOLD + MIB, seed=3)
    big_oid = hashlib.sha256(big).hexdigest()
    actions = _batch_upload(s3_hub, big_oid, len(big), ["basic", "multipart"])
    header = actions["upload"]["header"]
    chunk = int(header["chunk_size"])
    assert sorted(key for key in header if key != "chunk_size") == ["1", "2"]
    first = HTTP.put(header["1"], content=big[:chunk])
    complete = actions["upload"]["href"]
    parts = {"oid": big_oid, "parts": [{"partNumber": 1, "etag": first.headers["ETag"]}]}
    missing = HTTP.post(complete, json=parts, headers=LFS)
    assert (missing.status_code, missing.json()["error"]) == (400, "The upload is missing parts [2].")
    forged = bytearray(big[chunk:])
    forged[0] ^= 0xFF
    HTTP.put(header["2"], content=bytes(forged))
    refused = HTTP.post(complete, json=parts, headers=LFS)
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("Checksum mismatch")
    _nothing_promoted(s3_hub, big_oid)
