"""Clone and push of a 2,000-commit repository: the hub's git face against ``git http-backend``.

    .venv/bin/python benchmarks/git.py [--commits 2000] [--files 200]

The history is made once with ``git fast-import`` on top of the hub repository's first commit
(each commit changes one file of ``--files`` text files in 20 folders, about 2 kB each, so the
hub's and git's trees are the same). Then, in the same run and with the same ``git`` client
settings:
- push of the whole history to the hub (uvicorn on ``config.asgi``, SQLite, filesystem blobs) and
  to a bare repository served by ``git http-backend`` (CGI behind the small threaded server
  below, which gives git its own ``pack-objects`` and ``index-pack``);
- clone from each (best of 3, alternating): from the hub twice a round, once with its clone pack
  cache emptied first (the pack is planned and written) and once right after (the pack the first
  clone left in ``registry.packcache`` is sent); then the hub's peak RSS while serving one more
  planned clone.
Target: hub clone time ≤ 3× git's; memory bounded (the pack streams).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hubserver import RssWatcher, running_hub

GIT = shutil.which("git") or "git"
MB = 1_000_000


class _CgiHandler(BaseHTTPRequestHandler):
    """Runs ``git http-backend`` per request, as a web server's CGI module would."""

    project_root: Path

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._run(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._run(self.rfile.read(length))

    def _run(self, body: bytes) -> None:
        url = urlsplit(self.path)
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.project_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "bench",
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        process = subprocess.Popen([GIT, "http-backend"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        writer = threading.Thread(target=lambda: (process.stdin.write(body), process.stdin.close()))
        writer.start()
        status, headers = 200, []
        while (line := process.stdout.readline().rstrip(b"\r\n")) != b"":
            key, _, value = line.decode("latin-1").partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        while chunk := process.stdout.read1(1 << 20):
            self.wfile.write(chunk)
        writer.join()
        process.wait()


def git_http_backend(root: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = type("Handler", (_CgiHandler,), {"project_root": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def git(*args: str, cwd: Path | None = None, env: dict | None = None, stdin: bytes | None = None) -> str:
    result = subprocess.run([GIT, *args], cwd=cwd, env=env, input=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode().strip()


def client_env(home: Path, token: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.org\n"
        # One client setting for both servers; git http-backend behind this small CGI server
        # needs sized request bodies.
        "[http]\n\tpostBuffer = 2000000000\n"
        f'[credential]\n\thelper = "!f() {{ echo username=bench; echo password={token}; }}; f"\n'
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    return env | {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def fast_import_stream(*, parent: str, commits: int, files: int) -> bytes:
    """``commits`` commits on top of ``parent``, each rewriting one of ``files`` text files."""
    out = []
    when = 1_700_000_000
    for number in range(commits):
        path = f"dir{number % 20:02d}/file{number % files:04d}.txt"
        data = (f"commit {number}\n" + "".join(f"line {i} of {path} at {number}\n" for i in range(60))).encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{number + 1}\n".encode())
        out.append(f"committer Bench <bench@example.org> {when + number * 60} +0200\n".encode())
        message = f"Change {path} ({number})\n".encode()
        out.append(f"data {len(message)}\n".encode() + message)
        if number == 0:
            out.append(f"from {parent}\n".encode())
        out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    return b"".join(out)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(commits: int, files: int, workdir: Path) -> list[tuple[str, str, str, str]]:
    from huggingface_hub import HfApi

    rows = []
    with running_hub(workdir / "hub") as hub:
        env = client_env(workdir / "home", hub.token)
        HfApi(endpoint=hub.url, token=hub.token).create_repo("bench/history")
        hub_remote = f"{hub.url}/bench/history"
        source = workdir / "source"
        git("clone", "-q", hub_remote, str(source), env=env)
        parent = git("rev-parse", "HEAD", cwd=source, env=env)
        git(
            "fast-import",
            "--quiet",
            "--force",
            cwd=source,
            env=env,
            stdin=fast_import_stream(parent=parent, commits=commits, files=files),
        )
        git("reset", "-q", "--hard", "main", cwd=source, env=env)
        git("gc", "-q", cwd=source, env=env)
        size = sum(p.stat().st_size for p in (source / ".git" / "objects" / "pack").glob("*.pack"))

        backend_root = workdir / "served"
        git("init", "-q", "--bare", "--initial-branch=main", str(backend_root / "history.git"), env=env)
        git("config", "http.receivepack", "true", cwd=backend_root / "history.git", env=env)
        server, backend_url = git_http_backend(backend_root)
        try:
            git_remote = f"{backend_url}/history.git"
            push_git = timed(lambda: git("push", "-q", git_remote, "main", cwd=source, env=env))
            push_hub = timed(lambda: git("push", "-q", hub_remote, "main", cwd=source, env=env))
            head = git("rev-parse", "HEAD", cwd=source, env=env)

            def clone(remote: str, target: Path) -> float:
                shutil.rmtree(target, ignore_errors=True)
                seconds = timed(lambda: git("clone", "-q", "--no-checkout", remote, str(target), env=env))
                if git("rev-parse", "HEAD", cwd=target, env=env) != head:
                    raise RuntimeError(f"{remote} served another history")
                return seconds

            pack_cache = workdir / "hub" / "cache" / "git-packs"
            # Alternate the servers so all see the same load on a shared machine.
            times: dict[str, list[float]] = {"git": [], "hub": [], "hub cached": []}
            for _ in range(3):
                times["git"].append(clone(git_remote, workdir / "clone-git"))
                shutil.rmtree(pack_cache, ignore_errors=True)
                times["hub"].append(clone(hub_remote, workdir / "clone-hub"))
                times["hub cached"].append(clone(hub_remote, workdir / "clone-hub"))
            clone_git, clone_hub, clone_cached = min(times["git"]), min(times["hub"]), min(times["hub cached"])
            # Memory in a clone of its own: sampling every 10 ms takes CPU from the server.
            shutil.rmtree(pack_cache, ignore_errors=True)
            with RssWatcher(hub.process.pid) as watcher:
                idle = watcher.peak
                clone(hub_remote, workdir / "clone-hub")
            peak = watcher.peak
        finally:
            server.shutdown()
        git("fsck", "--no-progress", cwd=workdir / "clone-hub", env=env)
    rows.append(
        (
            f"push of {commits} commits ({size / MB:.1f} MB packed)",
            f"{push_hub:.2f}",
            f"{push_git:.2f}",
            f"{push_hub / push_git:.2f}×",
        )
    )
    rows.append(
        (
            f"clone of {commits + 1} commits, pack planned and written (best of 3)",
            f"{clone_hub:.2f}",
            f"{clone_git:.2f}",
            f"{clone_hub / clone_git:.2f}× (target ≤ 3)",
        )
    )
    rows.append(
        (
            f"clone of {commits + 1} commits, pack from the clone cache (best of 3)",
            f"{clone_cached:.2f}",
            f"{clone_git:.2f}",
            f"{clone_cached / clone_git:.2f}× (target ≤ 3)",
        )
    )
    rows.append(("hub RSS while cloning (planned): idle → peak (MB)", f"{idle / MB:.0f} → {peak / MB:.0f}", "–", "–"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (for profiling)")
    args = parser.parse_args()
    if args.keep:
        rows = run(args.commits, args.files, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-git-") as workdir:
            rows = run(args.commits, args.files, Path(workdir))
    print("| operation | hub (s) | git http-backend (s) | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
