"""The hub with its blobs in an S3-compatible bucket (moto's server mode, a real HTTP service on a
free port), served by uvicorn in a process of its own on the test database, behind a relay that
counts the bytes the hub sends and receives on the wire."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils import _xet as hf_xet_utils

from benchmarks.hubserver import free_port, uvicorn_command
from tests.support.factories import make_token, make_user
from tests.support.processes import REPO_ROOT, stop_process, subprocess_env, wait_until
from tests.support.relay import CountingRelay, counting_relay
from tests.support.s3 import S3Service, moto_s3

MIB = 1024 * 1024
LFS_THRESHOLD = 1_000_000  # files from 1 MB are LFS files
MULTIPART_THRESHOLD = 16 * MIB  # objects from 16 MiB go up in parts (of HUB_MULTIPART_CHUNK_BYTES, 16 MiB)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Service]:
    with moto_s3() as service:
        yield service


@dataclass
class LiveHub:
    url: str
    token: str
    api: HfApi
    process: subprocess.Popen
    s3: S3Service
    relay: CountingRelay

    def bytes_sent(self) -> int:
        """Bytes the hub has sent to its clients so far."""
        return self.relay.from_server

    def bytes_received(self) -> int:
        """Bytes the clients have sent to the hub so far."""
        return self.relay.to_server


@pytest.fixture
def s3_hub(s3, transactional_db, tmp_path, monkeypatch) -> Iterator[LiveHub]:
    """alice with a write token and ``alice/big``, on a hub process whose blobs live in ``s3``
    (Xet upload policy, Xet downloads advertised)."""
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "hf-xet-cache"))
    monkeypatch.setattr(hf_xet_utils, "_GLOBAL_XET_HOLDER", hf_xet_utils.XetSessionHolder())
    token = make_token(make_user("alice"))
    port = free_port()
    env = subprocess_env(
        **s3.hub_env(), HUB_DATA_DIR=str(tmp_path / "hub"), HUB_UPLOAD_POLICY="xet", HUB_XET_DOWNLOADS="1",
        HUB_LFS_THRESHOLD_BYTES=str(LFS_THRESHOLD), HUB_MULTIPART_THRESHOLD_BYTES=str(MULTIPART_THRESHOLD),
        LOG_LEVEL="WARNING",
    )  # fmt: skip
    process = subprocess.Popen(uvicorn_command(port), cwd=REPO_ROOT, env=env)
    direct = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(direct + "/healthz", timeout=2).status_code == 200
        assert process.poll() is None, "the hub exited at start"
        return False

    try:
        wait_until(up, timeout=300, what="the hub on uvicorn")
        with counting_relay(port) as relay:
            api = HfApi(endpoint=relay.url, token=token)
            api.create_repo("big")
            yield LiveHub(url=relay.url, token=token, api=api, process=process, s3=s3, relay=relay)
    finally:
        stop_process(process)
