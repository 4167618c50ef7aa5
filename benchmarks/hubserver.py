"""A throwaway hub for benchmarks: a fresh data folder, migrated, one user with a write token,
served by uvicorn in a subprocess whose memory can be watched."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RssWatcher:
    """Samples the resident memory of a process tree every few milliseconds; keeps the peak."""

    pid: int
    interval: float = 0.01
    peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> int:
        try:
            root = psutil.Process(self.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.NoSuchProcess:
            return 0

    def reset(self) -> None:
        self.peak = self._sample()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self.interval)

    def __enter__(self) -> RssWatcher:
        self.reset()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds spent so far by a process and its children."""
    try:
        root = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0.0


@dataclass
class Hub:
    url: str
    token: str
    process: subprocess.Popen
    data_dir: Path


def uvicorn_command(port: int, *, workers: int = 1) -> list[str]:
    """The hub's ASGI application on ``workers`` uvicorn processes at ``127.0.0.1:port``, without
    access logs (with a health-ping timeout a busy machine meets)."""
    return [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--workers", str(workers),
            "--timeout-worker-healthcheck", "30", "--timeout-keep-alive", "75"]  # fmt: skip


def wait_until_healthy(url: str, *, seconds: float) -> None:
    """Wait until the hub at ``url`` answers ``/healthz``; ``RuntimeError`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the hub did not start")


@contextlib.contextmanager
def running_hub(
    data_dir: Path, *, env: dict[str, str] | None = None, workers: int = 1, root: Path = REPO_ROOT
) -> Iterator[Hub]:
    """Start a hub on SQLite under ``data_dir`` with user ``bench`` and a write token, served by
    ``workers`` uvicorn processes (``make serve WORKERS=N``); ``root``: the checkout whose code runs
    (another revision's, for a baseline)."""
    environment = {
        **os.environ, "HUB_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "config.settings", "HUB_WEB_WORKERS": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics"), **(env or {}),
    }  # fmt: skip
    environment.pop("DATABASE_URL", None)
    manage = [sys.executable, str(root / "manage.py")]
    (data_dir / "metrics").mkdir(parents=True, exist_ok=True)
    subprocess.run([*manage, "migrate", "-v0"], env=environment, check=True, cwd=root)
    create_user = (
        "from hub.services.accounts import user_create;"
        "user_create(username='bench', email='bench@example.org', password='bench-password-123')"
    )
    subprocess.run([*manage, "shell", "-v", "0", "-c", create_user], env=environment, check=True, cwd=root)
    token = subprocess.run(
        [*manage, "hub_token", "create", "bench", "--role", "write"], env=environment, check=True, cwd=root,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    process = subprocess.Popen(uvicorn_command(port, workers=workers), env=environment, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, seconds=120)  # a loaded machine imports slowly
        yield Hub(url=url, token=token, process=process, data_dir=data_dir)
    finally:
        process.terminate()
        process.wait(timeout=30)
