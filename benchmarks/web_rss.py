"""Resident memory of a web process after it served pages, the API, a playground and an upload.

    .venv/bin/python benchmarks/web_rss.py [--upload-mib 256] [--baseline-tree DIR]

One hub (uvicorn on ``config.asgi``, one process, SQLite) with the playground process beside it
(``manage.py playground_server``, which the web passes ``/playground/`` on to). The workload, sent
by one client: the home page, the models and datasets listings, a repository page, the HF and REST
listings, a playground page and its config through the web process, and the stock client's upload
of a random ``--upload-mib`` file on the LFS path; then the same pages again. Reported per process:
RSS once it answers, peak RSS during the workload (sampled every 10 ms), and RSS at the end.

``--baseline-tree DIR``: the same workload against a checkout of another revision (``git archive
REV | tar -x -C DIR``), run first in the same invocation; its web process is measured the same way
(a revision whose web process mounts the playgrounds itself gets no playground process).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hubserver import REPO_ROOT, RssWatcher, free_port, running_hub, wait_until_healthy

MB = 1_000_000
PAGES = ["/", "/models", "/datasets", "/bench/weights", "/api/models", "/api/v1/repos?type=model"]
PLAYGROUND = "/playground/text-generation/bench/weights/"


def rss(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


def workload(url: str, token: str, upload: Path) -> dict[str, int]:
    from huggingface_hub import HfApi

    statuses = {}
    api = HfApi(endpoint=url, token=token)
    api.create_repo("bench/weights", exist_ok=True)
    for path in PAGES:
        statuses[path] = httpx.get(url + path, timeout=120).status_code
    # A playground page and its config (a 401 here: the repository has no model to run; the
    # request still goes all the way to the Gradio app and its auth dependency).
    statuses[PLAYGROUND] = httpx.get(url + PLAYGROUND, timeout=120).status_code
    statuses[PLAYGROUND + "config"] = httpx.get(url + PLAYGROUND + "config", timeout=120).status_code
    api.upload_file(path_or_fileobj=str(upload), path_in_repo="big.bin", repo_id="bench/weights")
    for path in PAGES:
        statuses[path] = httpx.get(url + path, timeout=120).status_code
    return statuses


def measure(label: str, root: Path, upload: Path, workdir: Path) -> list[str]:
    data_dir = workdir / label
    data_dir.mkdir()
    playground_port = free_port()
    playground_url = f"http://127.0.0.1:{playground_port}"
    env = {"HUB_UPLOAD_POLICY": "lfs", "HUB_PLAYGROUND_URL": playground_url}
    separate = (root / "config" / "playground_asgi.py").exists()
    rows = []
    with running_hub(data_dir, env=env, root=root) as hub:
        playground = None
        if separate:
            environment = {
                **os.environ, "HUB_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(root),
                "DJANGO_SETTINGS_MODULE": "config.settings", **env,
            }  # fmt: skip
            environment.pop("DATABASE_URL", None)
            playground = subprocess.Popen(
                [sys.executable, "manage.py", "playground_server", "--port", str(playground_port)],
                env=environment, cwd=root,
            )  # fmt: skip
            wait_until_healthy(playground_url, seconds=180)
        try:
            time.sleep(2)
            started = rss(hub.process.pid)
            with RssWatcher(hub.process.pid) as watcher:
                began = time.perf_counter()
                statuses = workload(hub.url, hub.token, upload)
                seconds = time.perf_counter() - began
            final = rss(hub.process.pid)
            rows.append(
                f"| {label}: web process (uvicorn, `config.asgi`) | {started / MB:.0f} | {watcher.peak / MB:.0f} "
                f"| {final / MB:.0f} | {seconds:.1f} s; {statuses} |"
            )
            if playground is not None:
                rows.append(f"| {label}: playground process | – | – | {rss(playground.pid) / MB:.0f} | |")
        finally:
            if playground is not None:
                playground.terminate()
                playground.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upload-mib", type=int, default=256)
    parser.add_argument("--baseline-tree", type=Path, help="a checkout of another revision, measured first")
    args = parser.parse_args()
    print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}")
    with tempfile.TemporaryDirectory(prefix="web-rss-") as temp:
        workdir = Path(temp)
        upload = workdir / "upload.bin"
        with open(upload, "wb") as handle:
            for _ in range(args.upload_mib):
                handle.write(os.urandom(1024 * 1024))
        os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ["HF_HOME"] = str(workdir / "hf-home")
        rows = []
        if args.baseline_tree:
            rows += measure("before", args.baseline_tree.resolve(), upload, workdir)
        rows += measure("after", REPO_ROOT, upload, workdir)
    print("| process | RSS when it answers (MB) | peak RSS during the workload (MB) | RSS at the end (MB) | workload |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"load average at end: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
