"""The filesystem backend behind Debian's nginx, configured from ``docker/nginx.conf.template``: the
stock client uploads (LFS path, Xet) and downloads byte-identically through the proxy, Range works,
access checks still answer first, and the file bytes of downloads never pass through the web
process (``HUB_ACCEL_REDIRECT_PREFIX``: X-Accel-Redirect to nginx's internal location). nginx
sends ``/playground/`` to the playground process itself, and Gradio's event streams come through.

The hub is a real uvicorn process on the test database, so what it reads from files is its own
``rchar`` (/proc/<pid>/io), and what it sent to nginx is nginx's ``$upstream_bytes_received``."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from gradio_client import Client
from huggingface_hub import HfApi, constants, hf_hub_download

from benchmarks.hubserver import uvicorn_command
from evals.harness.hashing import sha256_file
from registry.choices import ScanStatus
from registry.models import Blob, Repo
from registry.models_scans import BlobScan
from tests.support.factories import make_token, make_user
from tests.support.hf import random_bytes
from tests.support.inference import engine_url, live_inference, model_dirs, publish_model  # noqa: F401
from tests.support.nginx import Nginx, free_port, nginx_missing_reason, nginx_proxy, process_bytes_read, wait_healthy
from tests.support.processes import REPO_ROOT, stop_process, subprocess_env

MB = 1024 * 1024
BIG = 200 * MB

pytestmark = [
    pytest.mark.live,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(nginx_missing_reason() is not None, reason=str(nginx_missing_reason())),
]


@dataclass
class ProxiedHub:
    url: str  # nginx
    nginx: Nginx
    web: subprocess.Popen

    def new_log_lines(self, since: int):
        return self.nginx.access_lines()[since:]


@contextlib.contextmanager
def web_process(**env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen(uvicorn_command(port), cwd=REPO_ROOT, env=subprocess_env(**env))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout=300)  # imports take a while on a loaded machine
        yield url, process
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def proxied(django_db_setup, tmp_path_factory) -> Iterator[ProxiedHub]:
    blob_root = Path(settings.BLOB_ROOT)
    blob_root.mkdir(parents=True, exist_ok=True)
    env = {"HUB_ACCEL_REDIRECT_PREFIX": "/_blobs/", "HUB_BLOB_ROOT": str(blob_root), "HUB_XET_DOWNLOADS": "1"}
    with web_process(**env) as (web_url, web):
        upstream = web_url.removeprefix("http://")
        with nginx_proxy(upstream=upstream, blob_root=blob_root, workdir=tmp_path_factory.mktemp("nginx")) as nginx:
            yield ProxiedHub(url=nginx.url, nginx=nginx, web=web)
        assert web.poll() is None, "the web process died during the tests"


@pytest.fixture
def alice(proxied) -> HfApi:
    token = make_token(make_user("alice"), role="write")
    return HfApi(endpoint=proxied.url, token=token)


def stream_sha256(url: str, headers: dict[str, str]) -> tuple[httpx.Response, str, int]:
    digest, received = hashlib.sha256(), 0
    with httpx.stream("GET", url, headers=headers, timeout=300) as response:
        for chunk in response.iter_bytes(MB):
            digest.update(chunk)
            received += len(chunk)
    return response, digest.hexdigest(), received


# Headers the hub sets on a file download that the client (HF_PROTOCOL.md §2.5) and browsers read.
FILE_HEADERS = (
    "X-Repo-Commit", "X-Linked-Etag", "X-Linked-Size", "ETag", "Content-Disposition", "Content-Type",
    "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options", "Vary",
)  # fmt: skip


def test_a_200_mb_lfs_file_goes_up_through_nginx_and_comes_down_without_the_web_process(
    alice, proxied, monkeypatch, tmp_path
):
    source = tmp_path / "big.bin"
    with open(source, "wb") as handle:
        for part in range(BIG // (8 * MB)):
            handle.write(random_bytes(8 * MB, seed=part))
    expected = sha256_file(source)
    alice.create_repo("alice/big")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the LFS path: batch, PUT, verify
    commit = alice.upload_file(path_or_fileobj=str(source), path_in_repo="big.bin", repo_id="alice/big").oid
    assert Blob.objects.get(sha256=expected).size == BIG

    local = hf_hub_download("alice/big", "big.bin", endpoint=proxied.url, token=alice.token, cache_dir=tmp_path / "c")
    assert sha256_file(Path(local)) == expected

    resolve = f"{proxied.url}/alice/big/resolve/main/big.bin"
    auth = {"Authorization": f"Bearer {alice.token}"}
    seen = len(proxied.nginx.access_lines())
    read_before = process_bytes_read(proxied.web.pid)
    response, digest, received = stream_sha256(resolve, auth)
    read_by_web = process_bytes_read(proxied.web.pid) - read_before
    assert (response.status_code, received, digest) == (200, BIG, expected)
    [line] = proxied.new_log_lines(seen)
    assert line.body_bytes_sent == BIG
    assert line.upstream_bytes_received < 4096, line  # headers only
    assert read_by_web < 4 * MB, read_by_web  # the web process never read the file

    # The same headers as the web process's own answer to HEAD (which nginx proxies unchanged).
    head = httpx.head(resolve, headers=auth)
    assert head.headers["X-Repo-Commit"] == commit
    assert head.headers["X-Linked-Etag"] == f'"{expected}"'
    assert head.headers["X-Linked-Size"] == str(BIG)
    assert {name: response.headers.get(name) for name in FILE_HEADERS} == {
        name: head.headers.get(name) for name in FILE_HEADERS
    }
    assert response.headers["Content-Disposition"] == "inline; filename*=UTF-8''big.bin"

    # Range, as the client resumes: nginx applies it.
    data_slice = source.read_bytes()[:MB]
    ranged = httpx.get(resolve, headers={**auth, "Range": "bytes=1000-1999"})
    assert (ranged.status_code, ranged.headers["Content-Range"], ranged.content) == (
        206, f"bytes 1000-1999/{BIG}", data_slice[1000:2000],
    )  # fmt: skip
    assert ranged.headers["X-Repo-Commit"] == commit
    tail = httpx.get(resolve, headers={**auth, "Range": "bytes=-100"})
    with open(source, "rb") as handle:
        handle.seek(BIG - 100)
        assert (tail.status_code, tail.content) == (206, handle.read())
    # A range the hub does not hand off (two ranges: the whole file, as the hub answers them) is
    # streamed by the web process, and the same measures see it: they would catch a copy.
    seen = len(proxied.nginx.access_lines())
    read_before = process_bytes_read(proxied.web.pid)
    response, digest, received = stream_sha256(resolve, {**auth, "Range": "bytes=0-1,5-6"})
    assert (response.status_code, digest) == (200, expected)
    assert process_bytes_read(proxied.web.pid) - read_before >= BIG
    [line] = proxied.new_log_lines(seen)
    assert line.upstream_bytes_received > BIG

    # The git-LFS object URL of the same file, whole and resumed.
    batch = httpx.post(
        f"{proxied.url}/alice/big.git/info/lfs/objects/batch",
        json={"operation": "download", "objects": [{"oid": expected, "size": BIG}]},
        headers={**auth, "Accept": "application/vnd.git-lfs+json"},
    )
    href = batch.json()["objects"][0]["actions"]["download"]["href"]
    assert href.startswith(proxied.url)
    seen = len(proxied.nginx.access_lines())
    response, digest, received = stream_sha256(href, {})
    assert (response.status_code, digest) == (200, expected)
    assert proxied.new_log_lines(seen)[0].upstream_bytes_received < 4096
    part = httpx.get(href, headers={"Range": "bytes=0-999"})
    assert (part.status_code, part.content) == (206, data_slice[:1000])


def test_access_checks_answer_before_nginx_sends_anything(alice, proxied):
    alice.create_repo("alice/secret", private=True)
    alice.upload_file(path_or_fileobj=b"weights" * 1000, path_in_repo="w.bin", repo_id="alice/secret")
    auth = {"Authorization": f"Bearer {alice.token}"}
    resolve = f"{proxied.url}/alice/secret/resolve/main/w.bin"
    assert httpx.get(resolve, headers=auth).content == b"weights" * 1000
    anonymous = httpx.get(resolve)
    assert anonymous.status_code == 404
    assert anonymous.headers["X-Error-Code"] == "RepoNotFound"
    # The internal location is not reachable from outside.
    sha256 = hashlib.sha256(b"weights" * 1000).hexdigest()
    assert httpx.get(f"{proxied.url}/_blobs/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}").status_code == 404

    BlobScan.objects.update_or_create(
        blob=Blob.objects.get(sha256=sha256), defaults={"state": ScanStatus.DANGEROUS, "kind": "pickle"}
    )
    quarantined = httpx.get(resolve, headers=auth)
    assert quarantined.status_code == 403
    assert b"weights" not in quarantined.content

    Repo.objects.filter(name="secret").update(disabled=True, disabled_reason="legal")
    assert httpx.get(resolve, headers=auth).status_code == 451


def test_xet_downloads_read_their_ranges_through_nginx(alice, proxied, tmp_path, monkeypatch):
    from huggingface_hub.utils import _xet as hf_xet_utils

    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    monkeypatch.setattr(hf_xet_utils, "_GLOBAL_XET_HOLDER", hf_xet_utils.XetSessionHolder())
    data = random_bytes(9 * MB, seed=7)
    alice.create_repo("alice/xet")
    alice.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id="alice/xet")
    seen = len(proxied.nginx.access_lines())
    path = hf_hub_download("alice/xet", "w.bin", endpoint=proxied.url, token=alice.token, cache_dir=tmp_path / "c")
    assert Path(path).read_bytes() == data
    fetched = [line for line in proxied.new_log_lines(seen) if line.request.startswith("GET /xet/data/")]
    assert fetched, "the client read no xorb through nginx"
    assert all(line.status == 206 for line in fetched)
    assert sum(line.body_bytes_sent for line in fetched) >= 9 * MB * 0.9  # random data: no compression to speak of
    assert all(line.upstream_bytes_received < 4096 for line in fetched)


@contextlib.contextmanager
def playground_process(**env: str) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "manage.py", "playground_server", "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=subprocess_env(**env))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, timeout=300)
        yield url
    finally:
        stop_process(process)


def test_nginx_sends_the_playgrounds_to_their_process(live_inference, model_dirs, tmp_path):  # noqa: F811
    alice = make_user("alice")
    publish_model(alice, "tiny-llama", model_dirs["llama"])
    publish_model(alice, "secret", model_dirs["llama2"], private=True)
    # The web process's own way to the playgrounds leads nowhere: what works went through nginx's
    # /playground/ location to the playground process.
    nowhere = f"http://127.0.0.1:{free_port()}"
    with (
        playground_process(HUB_INFERENCE_ENGINE_URL=live_inference) as playground_url,
        web_process(HUB_PLAYGROUND_URL=nowhere) as (web_url, _web),
        nginx_proxy(
            upstream=web_url.removeprefix("http://"), playground_upstream=playground_url.removeprefix("http://"),
            blob_root=Path(settings.BLOB_ROOT), workdir=tmp_path / "nginx",
        ) as nginx,
    ):  # fmt: skip
        assert httpx.get(f"{web_url}/playground/text-generation/alice/tiny-llama/").status_code == 503
        page = httpx.get(f"{nginx.url}/playground/text-generation/alice/tiny-llama/", timeout=30)
        assert page.status_code == 200
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        assert httpx.get(f"{nginx.url}/playground/text-generation/alice/secret/", timeout=30).status_code == 401
        playground = Client(
            f"{nginx.url}/playground/text-generation/alice/tiny-llama/", verbose=False, analytics_enabled=False
        )
        updates = list(playground.submit("alpha beta", 16, 0.0, 0, 1.0, 1.0, -1, api_name="/generate"))
        assert len(updates) >= 2
        assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(updates))
        # Everything else still goes to the web process.
        assert httpx.get(f"{nginx.url}/alice/tiny-llama", timeout=30).status_code == 200
        assert httpx.get(f"{playground_url}/alice/tiny-llama", timeout=30).status_code == 404
