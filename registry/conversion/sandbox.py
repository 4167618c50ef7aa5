"""Start the conversion child with limits: CPU seconds, address space, file size, open files
(``resource.setrlimit`` in the child before it runs), a wall-clock timeout, an environment holding
only ``PATH``, ``HOME`` and ``TMPDIR`` (no proxy variables, no credentials), a fresh working folder, and
no network when ``unshare -n`` works on this machine (it needs user namespaces or root; where it
does not, the child still runs with every other limit and the empty environment, and the result
says so in ``network_isolated``).
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WORKER = Path(__file__).resolve().with_name("worker.py")


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int
    memory_bytes: int
    wall_seconds: int
    file_bytes: int


@dataclass
class SandboxResult:
    ok: bool
    result: dict
    network_isolated: bool


@functools.cache
def network_namespace_available() -> bool:
    """Whether ``unshare -n`` can start a process without network here (checked once)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        done = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=10, env={"PATH": os.defpath})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _limit(limits: SandboxLimits):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()

    return apply


def run_conversion(*, folder: Path, inputs: list[Path], shard_bytes: int, limits: SandboxLimits) -> SandboxResult:
    """Run the child over ``inputs`` (files inside ``folder``), writing to ``folder/out``."""
    out = folder / "out"
    out.mkdir()
    job = {"inputs": [str(p) for p in inputs], "output": str(out), "shard_bytes": shard_bytes}
    job_path = folder / "job.json"
    job_path.write_text(json.dumps(job))
    # -I: no user site, no PYTHON* variables, nothing of the working folder on sys.path; the worker
    # imports only torch and safetensors.
    command = [sys.executable, "-I", str(WORKER), str(job_path)]
    isolated = network_namespace_available()
    if isolated:
        command = [shutil.which("unshare"), "-n", *command]
    env = {"PATH": os.defpath, "HOME": str(folder), "TMPDIR": str(folder), "OMP_NUM_THREADS": "1"}
    try:
        subprocess.run(
            command,
            cwd=folder,
            env=env,
            preexec_fn=_limit(limits),
            timeout=limits.wall_seconds,
            capture_output=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return SandboxResult(False, {"error": f"the conversion ran past {limits.wall_seconds} s"}, isolated)
    result_path = out / "result.json"
    if not result_path.exists():
        return SandboxResult(False, {"error": "the conversion stopped without a result (a resource limit)"}, isolated)
    result = json.loads(result_path.read_text())
    return SandboxResult(bool(result.get("ok")), result, isolated)
