"""The Procfile supervisor of ``make run``: output prefixed per process, and Ctrl-C stops every
process with one SIGTERM, killing only one that outlives the grace period."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.procs import procfile_read

# A process that stops cleanly on SIGTERM, and one that ignores it.
POLITE = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); "
    "print('ready', flush=True); time.sleep(60)"
)
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


def _supervise(tmp_path: Path, procfile: str, *, grace: float) -> tuple[int, str]:
    path = tmp_path / "Procfile"
    path.write_text(procfile)
    proc = subprocess.Popen(
        [sys.executable, "-m", "common.procs", "-f", str(path), "--grace", str(grace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    expected = procfile.count("\n")
    while sum("| ready" in line for line in lines) < expected:
        line = proc.stdout.readline()
        assert line, "".join(lines)
        lines.append(line)
    proc.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, "".join(lines) + out


def test_ctrl_c_stops_every_process_cleanly(tmp_path):
    python = sys.executable
    code, out = _supervise(tmp_path, f'one: {python} -c "{POLITE}"\ntwo: {python} -c "{POLITE}"\n', grace=20)
    assert code == 0, out
    assert "one | ready" in out
    assert "two | ready" in out
    assert "one stopped (status 0)" in out
    assert "two stopped (status 0)" in out
    assert "killing" not in out


def test_a_process_that_ignores_the_stop_is_killed_after_the_grace_period(tmp_path):
    python = sys.executable
    started = time.monotonic()
    code, out = _supervise(tmp_path, f'calm: {python} -c "{POLITE}"\nmule: {python} -c "{STUBBORN}"\n', grace=1)
    assert code == 1, out
    assert "mule did not stop within 1 s; killing it" in out
    assert "calm stopped (status 0)" in out
    assert time.monotonic() - started < 20


def test_a_process_that_ends_on_its_own_stops_the_others(tmp_path):
    path = tmp_path / "Procfile"
    python = sys.executable
    path.write_text(f'crash: {python} -c "import sys; sys.exit(3)"\nlong: {python} -c "{POLITE}"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "common.procs", "-f", str(path), "--grace", "20"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stdout
    assert "crash ended on its own (status 3)" in proc.stdout


def test_procfile_lines_must_name_their_process(tmp_path):
    path = tmp_path / "Procfile"
    path.write_text("# comment\n\nweb: run it\nnot a process line\n")
    with pytest.raises(SystemExit, match=r"Procfile:4: expected 'name: command'"):
        procfile_read(path)
    path.write_text("# only a comment\n")
    with pytest.raises(SystemExit, match="declares no process"):
        procfile_read(path)
    path.write_text("web: uvicorn app --port ${PORT:-8000}\n")
    [web] = procfile_read(path)
    assert (web.name, web.command) == ("web", "uvicorn app --port ${PORT:-8000}")


def test_only_runs_the_named_processes(tmp_path):
    path = tmp_path / "Procfile"
    path.write_text("web: serve it\nplayground: play it\nworker: work\n")
    assert [p.name for p in procfile_read(path, only=["playground", "web"])] == ["web", "playground"]
    with pytest.raises(SystemExit, match=r"declares no process beat \(it declares web, playground, worker\)"):
        procfile_read(path, only=["web", "beat"])
