"""Starting real processes (Celery workers, manage.py commands) against the test database."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]


def database_url_for_subprocess() -> str:
    """A ``DATABASE_URL`` naming the database the running test uses (the test database)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for_subprocess()
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return env


@contextlib.contextmanager
def celery_worker(
    *, queues: str, name: str, concurrency: int = 1, broker_url: str | None = None, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Run a real Celery worker process on the configured broker for the duration of the block
    (``env``: more environment variables for it)."""
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-n", f"{name}@%h",
        "-c", str(concurrency), "--pool", "solo" if concurrency == 1 else "prefork", "--without-mingle",
        "--without-gossip", "--loglevel", "INFO",
    ]  # fmt: skip
    overrides = {"CELERY_BROKER_URL": broker_url} if broker_url else {}
    overrides.update(env or {})
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=subprocess_env(**overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        stop_process(process)


@contextlib.contextmanager
def http_process(
    command: list[str], url: str, *, env: dict[str, str], stderr=None, timeout: float = 180
) -> Iterator[subprocess.Popen]:
    """Run a server process (``command`` from the repository root, with ``env`` over the test
    database's environment) until the block ends, once ``url``/healthz answers 200."""
    import httpx

    process = subprocess.Popen(command, cwd=REPO_ROOT, env=subprocess_env(**env), stderr=stderr)

    def answers() -> bool:
        assert process.poll() is None, f"{command[:4]} ended with status {process.returncode}"
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url + "/healthz", timeout=2).status_code == 200
        return False

    try:
        wait_until(answers, timeout=timeout, what=f"{url} to answer")
        yield process
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    """Terminate ``process``, killing it when it does not exit within 20 seconds."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.25, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextlib.contextmanager
def publishing_to(broker_url: str | None) -> Iterator[None]:
    """Send the tasks the code under test enqueues to ``broker_url`` (the configured broker when
    None) instead of running them inline, for the duration of the block."""
    import kombu.pools

    from config.celery import app

    def reset_pools() -> None:
        # Drop the connection pools (as Celery does after a fork), so the next send connects anew.
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    saved = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url)
    app.conf.task_always_eager = False
    if broker_url:
        app.conf.broker_url = app.conf.broker_write_url = broker_url
    reset_pools()
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_write_url = saved
        reset_pools()
