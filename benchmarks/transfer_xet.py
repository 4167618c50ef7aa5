"""Upload and download of a large file through the hub's Xet CAS with the stock client, against the LFS path.

    .venv/bin/python benchmarks/transfer_xet.py [--size-mib 1024]

Starts a hub (uvicorn on ``config.asgi``, ``HUB_UPLOAD_POLICY=xet``, ``HUB_XET_DOWNLOADS=1``) and,
on that same server, times:

* upload of a random file through the stock client on the LFS path (``HF_HUB_DISABLE_XET`` set in
  the client): batch, multipart PUTs, verify, commit — the baseline;
* upload of another random file of the same size through the stock client with ``hf_xet``: token,
  xorbs (each verified as it streams in), shard (every file rebuilt and hashed by the server, and
  stored as the blob of its sha256), commit;
* ``hf_hub_download`` of the Xet file, which the hub advertises for Xet: parallel reconstruction
  through signed byte ranges of the stored xorbs.

The hub's peak RSS (uvicorn process tree, sampled every 10 ms) is recorded for each transfer.
Targets: Xet upload wall time ≤ 1.5× the LFS path's; server RSS < 300 MB.

``benchmarks/transfer.py`` calls :func:`measure_xet` for its Xet rows.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hubserver import RssWatcher, running_hub

MIB = 1024 * 1024


class TransferRow(NamedTuple):
    label: str
    seconds: float
    server_peak_rss_mb: float | None
    note: str


def _random_file(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            n = min(remaining, 16 * MIB)
            handle.write(os.urandom(n))
            remaining -= n


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(16 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _client_xet(enabled: bool):
    """Turn the client's Xet path on or off in this process (``HF_HUB_DISABLE_XET`` is read once)."""
    from huggingface_hub import constants

    previous = constants.HF_HUB_DISABLE_XET
    constants.HF_HUB_DISABLE_XET = not enabled
    try:
        yield
    finally:
        constants.HF_HUB_DISABLE_XET = previous


def _timed(fn, server_pid: int | None):
    watcher = RssWatcher(server_pid) if server_pid is not None else contextlib.nullcontext()
    with watcher:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    peak = watcher.peak / 1e6 if server_pid is not None else None
    return seconds, peak, result


def measure_xet(
    endpoint: str | None = None,
    token: str | None = None,
    size_bytes: int = 1024 * MIB,
    workdir: Path | None = None,
    *,
    source: Path | None = None,
    server_pid: int | None = None,
) -> list[TransferRow]:
    """Time the LFS-path upload, the Xet upload and the Xet download of ``size_bytes`` random bytes.

    Against the hub at ``endpoint`` (a write ``token``; ``server_pid`` to sample its memory), which
    must answer preupload with ``xet`` and advertise Xet downloads; without ``endpoint``, against
    a hub started for the purpose under ``workdir``. ``source``, when given, is uploaded on the LFS
    path (a second file of its size is made for Xet, so neither upload finds the other's content).
    Returns rows of (label, seconds, server peak RSS in MB, note), the last one the ratio of the
    two uploads' wall times.
    """
    workdir = Path(workdir or tempfile.mkdtemp(prefix="hub-transfer-xet-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if endpoint is None:
        env = {"HUB_UPLOAD_POLICY": "xet", "HUB_XET_DOWNLOADS": "1"}
        with running_hub(workdir / "hub", env=env) as hub:
            return measure_xet(hub.url, hub.token, size_bytes, workdir, source=source, server_pid=hub.process.pid)
    assert token is not None
    # The client's own state (shard cache, downloads) lives in the work folder: nothing deduplicates
    # against an earlier run.
    os.environ["HF_XET_CACHE"] = str(workdir / "hf-xet-cache")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()

    lfs_source = source or workdir / "lfs.bin"
    if source is None:
        _random_file(lfs_source, size_bytes)
    xet_source = workdir / "xet.bin"
    _random_file(xet_source, lfs_source.stat().st_size)
    size = xet_source.stat().st_size
    mb = size / 1e6
    api = HfApi(endpoint=endpoint, token=token)
    owner = api.whoami()["name"]
    lfs_repo, xet_repo = api.create_repo(f"{owner}/bench-lfs").repo_id, api.create_repo(f"{owner}/bench-xet").repo_id

    def upload(repo_id: str, path: Path):
        return lambda: api.upload_file(path_or_fileobj=str(path), path_in_repo="big.bin", repo_id=repo_id)

    with _client_xet(False):
        lfs_seconds, lfs_rss, _ = _timed(upload(lfs_repo, lfs_source), server_pid)
    with _client_xet(True):
        xet_seconds, xet_rss, _ = _timed(upload(xet_repo, xet_source), server_pid)
        cache = workdir / "download-cache"
        down_seconds, down_rss, path = _timed(
            lambda: hf_hub_download(xet_repo, "big.bin", endpoint=endpoint, token=token, cache_dir=cache), server_pid
        )
    if _sha256(Path(path)) != _sha256(xet_source):
        raise AssertionError("the file downloaded through Xet differs from the one uploaded")
    Path(path).unlink()
    rows = [
        TransferRow("upload, stock client, LFS path (Xet hub)", lfs_seconds, lfs_rss, f"{mb / lfs_seconds:.0f} MB/s"),
        TransferRow("upload, stock client, Xet", xet_seconds, xet_rss, f"{mb / xet_seconds:.0f} MB/s"),
        TransferRow("download, hf_hub_download via Xet", down_seconds, down_rss, f"{mb / down_seconds:.0f} MB/s"),
        TransferRow("ratio: Xet upload / LFS upload wall time", xet_seconds / lfs_seconds, None, "target ≤ 1.5"),
    ]
    xet_source.unlink()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-transfer-xet-") as tmp:
        rows = measure_xet(size_bytes=args.size_mib * MIB, workdir=Path(tmp))
    print(f"| transfer of {args.size_mib} MiB | seconds | server peak RSS (MB) | throughput |")
    print("|---|---|---|---|")
    for label, seconds, rss, note in rows:
        rss_text = f"{rss:.0f}" if rss is not None else "–"
        value = f"{seconds:.2f}×" if label.startswith("ratio") else f"{seconds:.2f}"
        print(f"| {label} | {value} | {rss_text} | {note} |")


if __name__ == "__main__":
    main()
