"""Run the processes of a Procfile together, the way ``make run`` does, and stop them cleanly.

    python -m common.procs [-f Procfile] [--only web,playground] [--grace SECONDS]

Each line ``name: command`` starts one process (through ``sh -c 'exec …'``, so ``${VAR:-default}``
works and the process is the shell's replacement, not its child), in a session of its own: a
terminal's Ctrl-C reaches this supervisor only, which then asks every process to stop with one
SIGTERM — the signal each of them shuts down on gracefully (Celery's warm shutdown, uvicorn's
graceful exit, the inference engine's interrupt) — and waits up to ``--grace`` seconds. Only a
process still running after that is killed, and says so. Output lines are prefixed with the time
and the process name.

Exit status: 0 when every process stopped cleanly (status 0, or the SIGTERM it handled and
re-raised) after a stop was asked for; otherwise the first non-zero status seen (a process that
ends on its own stops the others, as with any supervisor).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


@dataclass
class Process:
    name: str
    command: str
    popen: subprocess.Popen | None = None
    pump: threading.Thread | None = field(default=None, repr=False)


def procfile_read(path: Path, *, only: list[str] | None = None) -> list[Process]:
    """The processes a Procfile declares, in order; blank lines and ``#`` comments are skipped.
    ``only``: just the processes of these names (each must be declared)."""
    processes = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise SystemExit(f"{path}:{number}: expected 'name: command', got {raw!r}")
        processes.append(Process(name=match[1], command=match[2]))
    if not processes:
        raise SystemExit(f"{path} declares no process")
    if only is not None:
        unknown = sorted(set(only) - {p.name for p in processes})
        if unknown:
            declared = ", ".join(p.name for p in processes)
            raise SystemExit(f"{path} declares no process {', '.join(unknown)} (it declares {declared})")
        processes = [p for p in processes if p.name in only]
    return processes


class Supervisor:
    def __init__(self, processes: list[Process], *, grace: float, out=sys.stdout) -> None:
        self.processes = processes
        self.grace = grace
        self.out = out
        self.width = max(len(p.name) for p in processes)
        self.lock = threading.Lock()
        self.stop_asked = threading.Event()

    def say(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {text}\n")
            self.out.flush()

    def _pump(self, process: Process) -> None:
        for line in process.popen.stdout:
            self.say(process.name, line.rstrip("\n"))

    def start(self) -> None:
        for process in self.processes:
            process.popen = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {process.command}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            process.pump = threading.Thread(target=self._pump, args=(process,), daemon=True)
            process.pump.start()
            self.say("system", f"{process.name} started (pid {process.popen.pid})")

    def ask_stop(self, signum=None, frame=None) -> None:
        self.stop_asked.set()

    def run(self) -> int:
        """Start everything, wait for a stop request or for a process to end, stop the rest."""
        self.start()
        status = 0
        while not self.stop_asked.wait(0.2):
            ended = [p for p in self.processes if p.popen.poll() is not None]
            if ended:
                status = ended[0].popen.returncode or 1
                self.say("system", f"{ended[0].name} ended on its own (status {ended[0].popen.returncode})")
                break
        return self.stop(status)

    def stop(self, status: int) -> int:
        running = [p for p in self.processes if p.popen.poll() is None]
        for process in running:
            self.say("system", f"stopping {process.name}")
            process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(p.popen.poll() is None for p in running):
            time.sleep(0.1)
        for process in running:
            if process.popen.poll() is None:
                self.say("system", f"{process.name} did not stop within {self.grace:g} s; killing it")
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
                status = status or 1
        for process in self.processes:
            process.pump.join(timeout=2)
            code = process.popen.returncode
            self.say("system", f"{process.name} stopped (status {code})")
            # uvicorn re-raises the SIGTERM it handled once it has shut down: a clean stop too.
            if process in running and code not in (0, -signal.SIGTERM):
                status = status or 1
        return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-f", "--procfile", type=Path, default=Path("Procfile"))
    parser.add_argument("--only", help="comma-separated names: run just these processes of the Procfile")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds each process has to stop")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()] if args.only is not None else None
    supervisor = Supervisor(procfile_read(args.procfile, only=only), grace=args.grace)
    signal.signal(signal.SIGINT, supervisor.ask_stop)
    signal.signal(signal.SIGTERM, supervisor.ask_stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
