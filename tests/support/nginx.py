"""Debian's nginx in front of a live hub, with the site rendered from ``docker/nginx.conf.template``
(the file the compose stack's nginx renders), on a free loopback port. Used by the proxy tests and
``benchmarks/transfer.py``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.hubserver import free_port
from tests.support.processes import stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "docker" / "nginx.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ACCEL_PREFIX = "/_blobs/"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def nginx_missing_reason() -> str | None:
    """Why nginx cannot be started here, or None."""
    if not os.access(NGINX, os.X_OK):
        return f"nginx is not installed ({NGINX}; `.ci/run` installs Debian's nginx package)"
    return None


def template_placeholders() -> set[str]:
    return set(PLACEHOLDER.findall(TEMPLATE.read_text()))


def render_template(values: dict[str, str]) -> str:
    """The template with every ``${NAME}`` replaced, as the nginx image's envsubst step does."""
    text = TEMPLATE.read_text()
    missing = template_placeholders() - values.keys()
    if missing:
        raise ValueError(f"no value for {', '.join(sorted(missing))} in {TEMPLATE.name}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


@dataclass
class AccessLine:
    request: str
    status: int
    body_bytes_sent: int
    upstream_bytes_received: int  # 0 for requests nginx answered without the web process


LOG_LINE = re.compile(r'^\S+ "(?P<request>[^"]*)" (?P<status>\d+) (?P<sent>\d+) up=(?P<up>[^ ]*) ')


@dataclass
class Nginx:
    url: str
    access_log: Path
    process: subprocess.Popen

    def access_lines(self) -> list[AccessLine]:
        """The access log so far (nginx writes a line when a request ends)."""
        lines = []
        for raw in self.access_log.read_text().splitlines():
            match = LOG_LINE.match(raw)
            if match is None:
                raise AssertionError(f"unexpected access log line: {raw!r}")
            # Several upstream attempts are listed comma-separated; "-" when there was none.
            up = sum(int(part) for part in re.findall(r"\d+", match.group("up")))
            lines.append(AccessLine(match.group("request"), int(match.group("status")), int(match.group("sent")), up))
        return lines


@contextlib.contextmanager
def nginx_proxy(
    *, upstream: str, blob_root: Path, workdir: Path, prefix: str = ACCEL_PREFIX, playground_upstream: str | None = None
) -> Iterator[Nginx]:
    """Run nginx in the foreground with the hub's site in front of ``upstream`` (host:port), sending
    ``/playground/`` to ``playground_upstream`` (the playground process; the web process, which passes
    it on, when None)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    access_log = workdir / "access.log"
    access_log.touch()
    site = render_template(
        {
            "HUB_UPSTREAM": upstream,
            "HUB_PLAYGROUND_UPSTREAM": playground_upstream or upstream,
            "NGINX_LISTEN": f"127.0.0.1:{port}",
            "NGINX_ACCESS_LOG": str(access_log),
            "HUB_ACCEL_REDIRECT_PREFIX": prefix,
            "HUB_BLOB_ROOT": str(blob_root),
        }
    )
    (workdir / "hub.conf").write_text(site)
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    # The main file of the nginx image, reduced: the site above is its conf.d/.
    (workdir / "nginx.conf").write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {workdir / "hub.conf"};
}}
"""
    )
    command = [NGINX, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(workdir / "nginx.conf")]
    subprocess.run([*command, "-t", "-q"], check=True)
    process = subprocess.Popen([*command, "-g", "daemon off;"])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {(workdir / 'error.log').read_text()}") from None
                time.sleep(0.05)
        yield Nginx(url=url, access_log=access_log, process=process)
    finally:
        stop_process(process)


def wait_healthy(url: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy in {timeout:.0f}s")
        time.sleep(0.1)


def process_bytes_read(pid: int) -> int:
    """Bytes the process has read through read(2) and friends (``rchar`` of /proc/<pid>/io):
    every file it copies out counts here, whatever the event loop or the socket calls."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "rchar":
            return int(value)
    raise RuntimeError(f"/proc/{pid}/io has no rchar")
