"""Upload and download of a large file through the hub, against a static file server and ``cp``.

    .venv/bin/python benchmarks/transfer.py [--size-mib 1024]

Rows (each timed in this run, on this machine):
- upload through the stock ``huggingface_hub`` client on the LFS path (``HUB_UPLOAD_POLICY=lfs``,
  ``HF_HUB_DISABLE_XET=1``): batch, one streamed PUT (or multipart), verify, commit; against a
  second hub started beside it with ``HUB_STREAMED_UPLOADS=0`` (Django spools the whole body to
  a temporary file before the view copies it into staging), the two alternating ``--rounds`` times
  (best of each);
- upload through the stock client with the Xet policy, if ``benchmarks/transfer_xet.py`` exists;
- ``cp`` of the same file (the disk's own speed: the floor for any upload or download);
- download with ``hf_hub_download`` and with a plain streaming GET of ``resolve``, against a
  streaming GET of the same bytes from ``python -m http.server`` (the static baseline);
- behind nginx (Debian's, the site from ``docker/nginx.conf.template``; skipped when nginx is
  absent): a third hub with ``HUB_ACCEL_REDIRECT_PREFIX``, the stock client uploading through the
  proxy (LFS path) and downloading from it, nginx sending the file itself (the GETs alternate
  with GETs from the static server, best of ``--rounds`` each); the web process's
  ``rchar`` (bytes it read, /proc/<pid>/io) and nginx's ``$upstream_bytes_received`` show how
  much of the download passed through Python.
- S3 mode (``--s3``, or ``--only s3`` for these rows alone): a hub whose blobs live in moto's S3
  server (``HUB_S3_BUCKET``); the stock client's LFS upload goes to presigned part URLs and the hub
  reads the object back once to verify it; ``hf_hub_download`` follows resolve's 302 to a presigned
  URL. A relay in front of the hub counts the bytes it received during the upload and sent during
the download. moto is a Python server keeping objects in memory: its throughput is moto's, not a real store's.
The hub's peak RSS (uvicorn process tree) is sampled during each transfer.
Targets: download ≥ 0.8× the static server; server RSS < 300 MB while receiving the upload.

    .venv/bin/python benchmarks/transfer.py --size-mib 1024 --only nginx   # the nginx rows alone
    .venv/bin/python benchmarks/transfer.py --size-mib 200 --only s3       # the S3 rows alone
    .venv/bin/python benchmarks/transfer.py --only upload --baseline main  # the upload rows alone

The upload rows also give the server's CPU seconds per upload (the uvicorn process tree's user and
system time, least of the rounds) and the time to sha256 the file, which the client spends before
sending anything; ``--baseline COMMIT`` adds a third hub, spooled, running that commit's code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hubserver import REPO_ROOT, RssWatcher, free_port, running_hub, tree_cpu_seconds
from tests.support.nginx import nginx_missing_reason, nginx_proxy, process_bytes_read

MIB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            n = min(remaining, 16 * MIB)
            handle.write(os.urandom(n))
            remaining -= n


def stream_get(url: str, headers: dict | None = None) -> int:
    received = 0
    with httpx.stream("GET", url, headers=headers or {}, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(chunk_size=MIB):
            received += len(chunk)
    return received


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _client_env(workdir: Path) -> None:
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["HF_HUB_DISABLE_UPDATE_CHECK"] = "1"
    os.environ["HF_HOME"] = str(workdir / "hf-home")


def run_s3(size: int, workdir: Path, source: Path) -> list[tuple[str, float, float | None, str]]:
    """Upload and download through a hub whose blobs live in moto's S3 server; a relay in front of
    the hub counts the bytes it receives and sends."""
    from tests.support.relay import counting_relay
    from tests.support.s3 import moto_s3

    _client_env(workdir)
    from huggingface_hub import HfApi, hf_hub_download

    rows: list[tuple[str, float, float | None, str]] = []
    mb = size / 1e6
    with (
        moto_s3() as s3,
        running_hub(workdir / "hub-s3", env={"HUB_UPLOAD_POLICY": "lfs", **s3.hub_env()}) as hub,
        counting_relay(int(hub.url.rsplit(":", 1)[1])) as relay,
    ):
        api = HfApi(endpoint=relay.url, token=hub.token)
        api.create_repo("bench/s3")
        received = relay.to_server
        with RssWatcher(hub.process.pid) as watcher:
            seconds, _ = timed(
                lambda: api.upload_file(path_or_fileobj=str(source), path_in_repo="big.bin", repo_id="bench/s3")
            )
        received = relay.to_server - received
        note = f"{mb / seconds:.0f} MB/s; the hub received {received / 1e3:.1f} kB"
        rows.append(("upload, stock client, LFS path, S3 mode (presigned parts to moto, then verified)", seconds,
                     watcher.peak / 1e6, note))  # fmt: skip
        sent = relay.from_server
        with RssWatcher(hub.process.pid) as watcher:
            seconds, path = timed(
                lambda: hf_hub_download(
                    "bench/s3", "big.bin", endpoint=relay.url, token=hub.token, cache_dir=workdir / "cache-s3"
                )
            )
        sent = relay.from_server - sent
        assert os.path.getsize(path) == size
        rows.append(("download, hf_hub_download, S3 mode (302 to a presigned moto URL)", seconds,
                     watcher.peak / 1e6, f"{mb / seconds:.0f} MB/s; the hub sent {sent / 1e3:.1f} kB"))  # fmt: skip
    return rows


@contextlib.contextmanager
def static_server(workdir: Path) -> Iterator[str]:
    """``python -m http.server`` over ``workdir``; yields the URL of ``payload.bin``."""
    port = free_port()
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/payload.bin"
    finally:
        static.terminate()
        static.wait()


def static_baseline(size: int, workdir: Path) -> float:
    """Seconds for a streaming GET of ``payload.bin`` from ``python -m http.server``."""
    with static_server(workdir) as url:
        seconds, received = timed(lambda: stream_get(url))
    assert received == size
    return seconds


def measure_nginx(size: int, workdir: Path, source: Path, rounds: int) -> list[tuple[str, float, float | None, str]]:
    """Upload and download through nginx in front of a hub that hands downloads to it; the GETs
    alternate with GETs of the same bytes from the static server (best of ``rounds`` each)."""
    from huggingface_hub import HfApi, hf_hub_download

    mb = size / 1e6
    rows: list[tuple[str, float, float | None, str]] = []
    hub_dir = workdir / "hub-nginx"
    env = {"HUB_UPLOAD_POLICY": "lfs", "HUB_ACCEL_REDIRECT_PREFIX": "/_blobs/", "HUB_BLOB_ROOT": str(hub_dir / "blobs")}
    with (
        running_hub(hub_dir, env=env) as hub,
        nginx_proxy(
            upstream=hub.url.removeprefix("http://"), blob_root=hub_dir / "blobs", workdir=workdir / "nginx"
        ) as nginx,
        static_server(workdir) as static_url,
    ):
        api = HfApi(endpoint=nginx.url, token=hub.token)
        api.create_repo("bench/big")
        with RssWatcher(hub.process.pid) as watcher:
            seconds, _ = timed(
                lambda: api.upload_file(path_or_fileobj=str(source), path_in_repo="big.bin", repo_id="bench/big")
            )
        rows.append(("upload, stock client, LFS path, through nginx", seconds, watcher.peak / 1e6,
                     f"{mb / seconds:.0f} MB/s"))  # fmt: skip
        resolve = f"{nginx.url}/bench/big/resolve/main/big.bin"
        auth = {"Authorization": f"Bearer {hub.token}"}
        proxied, static, read, sent, peak = [], [], 0, 0, 0.0
        for _ in range(rounds):
            seen = len(nginx.access_lines())
            read_before = process_bytes_read(hub.process.pid)
            with RssWatcher(hub.process.pid) as watcher:
                seconds, received = timed(lambda: stream_get(resolve, auth))
            assert received == size
            proxied.append(seconds)
            read = max(read, process_bytes_read(hub.process.pid) - read_before)
            [line] = nginx.access_lines()[seen:]
            sent, peak = max(sent, line.upstream_bytes_received), max(peak, watcher.peak / 1e6)
            seconds, received = timed(lambda: stream_get(static_url))
            assert received == size
            static.append(seconds)
        rows.append((
            "download, streaming GET of resolve through nginx (X-Accel-Redirect)", min(proxied), peak,
            f"{mb / min(proxied):.0f} MB/s; web process read ≤ {read / 1e6:.2f} MB, sent nginx ≤ {sent} bytes",
        ))  # fmt: skip
        rows.append(("download, python -m http.server, alternated with the GETs above", min(static), None,
                     f"{mb / min(static):.0f} MB/s"))  # fmt: skip
        rows.append(("ratio: nginx GET / static GET throughput", min(static) / min(proxied), None, "target ≥ 0.8"))
        with RssWatcher(hub.process.pid) as watcher:
            seconds, path = timed(
                lambda: hf_hub_download(
                    "bench/big", "big.bin", endpoint=nginx.url, token=hub.token, cache_dir=workdir / "cache-nginx"
                )
            )
        assert os.path.getsize(path) == size
        rows.append(("download, hf_hub_download through nginx", seconds, watcher.peak / 1e6,
                     f"{mb / seconds:.0f} MB/s"))  # fmt: skip
    return rows


def run(
    size: int,
    workdir: Path,
    rounds: int = 2,
    only: str | None = None,
    *,
    s3: bool = False,
    baseline: Path | None = None,
    baseline_name: str = "",
) -> list[tuple[str, float, float | None, str]]:
    source = workdir / "payload.bin"
    make_file(source, size)
    _client_env(workdir)
    if only == "s3":
        return run_s3(size, workdir, source)
    rows: list[tuple[str, float, float | None, str]] = []
    mb = size / 1e6
    if only == "nginx":
        reason = nginx_missing_reason()
        if reason:
            raise SystemExit(reason)
        return measure_nginx(size, workdir, source, rounds)

    # Baseline: the disk copying the same file.
    seconds, _ = timed(lambda: shutil.copyfile(source, workdir / "copy.bin"))
    rows.append(("cp (disk baseline)", seconds, None, ""))
    (workdir / "copy.bin").unlink()

    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.utils.sha import sha_fileobj

    with open(source, "rb") as handle:
        seconds, _ = timed(lambda: sha_fileobj(handle))
    rows.append(("sha256 of the file, as the client computes it before sending", seconds, None, ""))
    spooled_env = {"HUB_UPLOAD_POLICY": "lfs", "HUB_STREAMED_UPLOADS": "0"}
    with contextlib.ExitStack() as stack:
        hub = stack.enter_context(running_hub(workdir / "hub", env={"HUB_UPLOAD_POLICY": "lfs"}))
        servers = {"spooled": stack.enter_context(running_hub(workdir / "hub-spooled", env=spooled_env))}
        if baseline is not None:
            servers["baseline"] = stack.enter_context(
                running_hub(workdir / "hub-baseline", env=spooled_env, root=baseline)
            )
        servers["streamed"] = hub
        times: dict[str, list[tuple[float, float, float]]] = {label: [] for label in servers}
        for round_number in range(rounds):
            # Content new to every hub each round (the client skips files a repository already has).
            payload = source if round_number == 0 else workdir / f"payload-{round_number}.bin"
            if round_number:
                shutil.copyfile(source, payload)
                with open(payload, "r+b") as handle:
                    handle.write(round_number.to_bytes(8, "big"))
            for label, server in servers.items():
                api = HfApi(endpoint=server.url, token=server.token)
                if round_number == 0:
                    api.create_repo("bench/big")
                name = "big.bin" if round_number == 0 else f"big-{round_number}.bin"
                cpu = tree_cpu_seconds(server.process.pid)
                with RssWatcher(server.process.pid) as watcher:
                    seconds, _ = timed(
                        lambda api=api, name=name, payload=payload: api.upload_file(
                            path_or_fileobj=str(payload), path_in_repo=name, repo_id="bench/big"
                        )
                    )
                cpu = tree_cpu_seconds(server.process.pid) - cpu
                times[label].append((seconds, watcher.peak / 1e6, cpu))
            if payload != source:
                payload.unlink()
        labels = {
            "baseline": f"upload, LFS path, body spooled by Django first, code of {baseline_name}",
            "spooled": "upload, LFS path, body spooled by Django first",
            "streamed": "upload, stock client, LFS path",
        }
        for label in servers:
            seconds, peak, _ = min(times[label])
            cpu = min(cpu for _, _, cpu in times[label])
            rows.append((labels[label], seconds, peak, f"{mb / seconds:.0f} MB/s; server CPU {cpu:.1f} s"))
        for label in [name for name in ("spooled", "baseline") if name in servers]:
            rounds_ratio = ", ".join(f"{a[0] / b[0]:.2f}" for a, b in zip(times[label], times["streamed"], strict=True))
            rows.append((
                f"ratio: streamed / {labels[label].removeprefix('upload, ')} upload throughput",
                min(times[label])[0] / min(times["streamed"])[0], None, f"rounds {rounds_ratio}; target ≥ 1.5",
            ))  # fmt: skip
        if only == "upload":
            return rows

        resolve = f"{hub.url}/bench/big/resolve/main/big.bin"
        auth = {"Authorization": f"Bearer {hub.token}"}
        with RssWatcher(hub.process.pid) as watcher:
            seconds, received = timed(lambda: stream_get(resolve, auth))
        assert received == size
        hub_get = seconds
        rows.append(("download, streaming GET of resolve", seconds, watcher.peak / 1e6, f"{mb / seconds:.0f} MB/s"))
        with RssWatcher(hub.process.pid) as watcher:
            seconds, path = timed(
                lambda: hf_hub_download(
                    "bench/big", "big.bin", endpoint=hub.url, token=hub.token, cache_dir=workdir / "cache"
                )
            )
        assert os.path.getsize(path) == size
        rows.append(("download, hf_hub_download", seconds, watcher.peak / 1e6, f"{mb / seconds:.0f} MB/s"))

    try:
        from benchmarks.transfer_xet import measure_xet
    except ImportError:
        measure_xet = None
    if measure_xet is not None:
        for label, seconds, rss, note in measure_xet(size_bytes=size, workdir=workdir / "xet", source=source):
            rows.append((label, seconds, rss, note))

    if nginx_missing_reason() is None:
        rows += measure_nginx(size, workdir, source, rounds)
    else:
        print(f"nginx rows skipped: {nginx_missing_reason()}", file=sys.stderr)

    seconds = static_baseline(size, workdir)
    rows.append(("download, python -m http.server (static baseline)", seconds, None, f"{mb / seconds:.0f} MB/s"))
    rows.append(("ratio: hub GET / static GET throughput", seconds / hub_get, None, "target ≥ 0.8"))
    if s3:
        rows.extend(run_s3(size, workdir, source))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2, help="upload rounds per hub (best of)")
    parser.add_argument(
        "--only", choices=["nginx", "s3", "upload"], help="only the rows behind nginx, in S3 mode or of the uploads"
    )
    parser.add_argument("--s3", action="store_true", help="add the S3-mode rows (moto's server)")
    parser.add_argument(
        "--baseline", metavar="COMMIT",
        help="also upload, alternating with the others, to a spooled hub running the code of COMMIT (git archive)",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-transfer-") as tmp:
        baseline = None
        if args.baseline:
            baseline = Path(tmp) / "baseline-source"
            baseline.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.baseline], cwd=REPO_ROOT, check=True, capture_output=True
            ).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        rows = run(
            args.size_mib * MIB, Path(tmp), rounds=args.rounds, only=args.only, s3=args.s3,
            baseline=baseline, baseline_name=args.baseline or "",
        )  # fmt: skip
    print(f"| transfer of {args.size_mib} MiB | seconds | server peak RSS (MB) | throughput |")
    print("|---|---|---|---|")
    for label, seconds, rss, note in rows:
        rss_text = f"{rss:.0f}" if rss is not None else "–"
        value = f"{seconds:.2f}" if not label.startswith("ratio") else f"{seconds:.2f}×"
        print(f"| {label} | {value} | {rss_text} | {note} |")


if __name__ == "__main__":
    main()
