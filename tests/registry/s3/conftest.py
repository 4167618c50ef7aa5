"""The hub with its blobs in an S3-compatible bucket (moto's server mode, a real HTTP service on a
free port), served by uvicorn in a process of its own on the test database, so that the bytes it
sends can be read from the kernel's count for that process (``/proc/<pid>/io``)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils import _xet as hf_xet_utils

from benchmarks.hubserver import free_port, uvicorn_command
from tests.support.factories import make_token, make_user
from tests.support.processes import REPO_ROOT, stop_process, subprocess_env, wait_until
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

    def bytes_sent(self) -> int:
        """Bytes the hub's process has written (sockets included) since it started."""
        return psutil.Process(self.process.pid).io_counters().write_chars

    def bytes_read(self) -> int:
        return psutil.Process(self.process.pid).io_counters().read_chars


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
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url + "/healthz", timeout=2).status_code == 200
        assert process.poll() is None, "the hub exited at start"
        return False

    try:
        wait_until(up, timeout=300, what="the hub on uvicorn")
        api = HfApi(endpoint=url, token=token)
        api.create_repo("big")
        yield LiveHub(url=url, token=token, api=api, process=process, s3=s3)
    finally:
        stop_process(process)
