"""Closed-loop load: one client against many, side by side in one run, on the same hub.

    .venv/bin/python benchmarks/load.py [--hubs 2 1 1/0] [--clients 100] [--seconds 30]

Each hub of ``--hubs`` (``W`` or ``W/C``: ``W`` uvicorn processes, what ``make serve WORKERS=W``
runs, each running at most ``C`` requests through Django at once, ``HUB_WEB_CONCURRENCY``; 0 is
Django's own unbounded thread per request) is started on a fresh SQLite data folder, seeded
through the stock ``huggingface_hub`` client with a model repository (card, config, a small
weights file), and then driven by closed-loop clients: each
client sends its next request as soon as the previous one is answered. Every client walks the
same mix of real hub requests (the HF API's model info, search listing, file tree, ``whoami``,
the ``HEAD`` and ``GET`` of ``resolve`` that ``hf_hub_download`` sends, the repository page, the
models page), starting at a different point of it. First one client, then ``--clients`` clients,
each for ``--seconds`` after ``--warmup`` seconds. The first hub is the configuration under test
(the README's process count); the others are baselines (``1/0``: one process as Django runs it).

Printed per phase: requests, req/s, p50/p95/p99 latency, errors (any answer other than the one
the request expects, or a transport error), and the machine's load average. Targets: with the
README's process count, ``--clients`` clients give ≥ 1.5× the one-client req/s, their p99 is at
most 3× their p50, and nothing fails. The throttles are raised for the run (one address sends
everything); everything else is the hub's default configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hubserver import running_hub

REPO = "bench/load-model"
CARD = """---
license: apache-2.0
language: en
tags: [text-generation, load-test]
pipeline_tag: text-generation
---
# Load model

A small repository the load test reads.
"""
UNTHROTTLED = {
    name: "100000000/hour"
    for name in (
        "HUB_THROTTLE_HF_USER", "HUB_THROTTLE_HF_ANON", "HUB_THROTTLE_FILES_USER", "HUB_THROTTLE_FILES_ANON",
        "HUB_THROTTLE_LFS_USER", "HUB_THROTTLE_LFS_ANON", "HUB_THROTTLE_XET", "API_THROTTLE_USER", "API_THROTTLE_ANON",
    )
}  # fmt: skip


def request_mix() -> list[tuple[str, str, int]]:
    """(method, path, expected status) of one round of the mix."""
    return [
        ("GET", f"/api/models/{REPO}", 200),
        ("GET", "/api/models?search=load&limit=20", 200),
        ("GET", f"/api/models/{REPO}/tree/main", 200),
        ("GET", "/api/whoami-v2", 200),
        ("HEAD", f"/{REPO}/resolve/main/config.json", 200),
        ("GET", f"/{REPO}/resolve/main/config.json", 200),
        ("GET", f"/api/models/{REPO}/revision/main", 200),
        ("GET", f"/{REPO}", 200),
        ("GET", "/models", 200),
    ]


def seed(url: str, token: str) -> None:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from huggingface_hub import HfApi

    api = HfApi(endpoint=url, token=token)
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=CARD.encode(), path_in_repo="README.md", repo_id=REPO)
    api.upload_file(path_or_fileobj=b'{"model_type": "llama", "hidden_size": 64}', path_in_repo="config.json",
                    repo_id=REPO)  # fmt: skip
    api.upload_file(path_or_fileobj=os.urandom(64 * 1024), path_in_repo="model.safetensors", repo_id=REPO)


@dataclass
class Phase:
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


async def drive(url: str, token: str, clients: int, seconds: float, warmup: float) -> Phase:
    """``clients`` closed loops for ``warmup + seconds``; the answers that arrive inside the measured
    window count (a closed loop's throughput is its completions per second; answers after the
    window's end are not counted)."""
    phase = Phase(clients=clients)
    mix = request_mix()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        loop = asyncio.get_running_loop()
        start = loop.time() + warmup
        end = start + seconds

        async def one(index: int) -> None:
            step = index
            while loop.time() < end:
                method, path, expected = mix[step % len(mix)]
                step += 1
                began = loop.time()
                try:
                    response = await http.request(method, path)
                    await response.aread()
                    problem = None if response.status_code == expected else f"{method} {path}: {response.status_code}"
                except httpx.HTTPError as error:
                    problem = f"{method} {path}: {type(error).__name__} {error}"
                finished = loop.time()
                if start <= finished <= end:
                    phase.latencies.append(finished - began)
                    if problem:
                        phase.errors.append(problem)

        await asyncio.gather(*(one(i) for i in range(clients)))
    phase.seconds = seconds
    phase.load = os.getloadavg()
    return phase


def run_hub(workers: int, bound: str | None, clients: int, seconds: float, warmup: float) -> list[Phase]:
    env = UNTHROTTLED | ({"HUB_WEB_CONCURRENCY": bound} if bound is not None else {})
    with (
        tempfile.TemporaryDirectory(prefix="hub-load-") as folder,
        running_hub(Path(folder), env=env, workers=workers) as hub,
    ):
        seed(hub.url, hub.token)
        return [asyncio.run(drive(hub.url, hub.token, n, seconds, warmup)) for n in (1, clients)]


def report(label: str, phases: list[Phase]) -> None:
    one, many = phases
    for phase in phases:
        print(
            f"| {label} | {phase.clients} | {len(phase.latencies)} | {phase.rate:.0f} | "
            f"{phase.percentile(0.50) * 1000:.0f} | {phase.percentile(0.95) * 1000:.0f} | "
            f"{phase.percentile(0.99) * 1000:.0f} | {len(phase.errors)} | {' '.join(f'{x:.1f}' for x in phase.load)} |"
        )
    ratio = many.rate / one.rate if one.rate else float("nan")
    tail = many.percentile(0.99) / many.percentile(0.50)
    print(f"|   | ratio | {ratio:.2f}× req/s (target ≥ 1.5) | p99/p50 {tail:.2f} (target ≤ 3) |")
    for error in sorted(set(many.errors + one.errors))[:10]:
        print("   error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hubs", nargs="+", default=["2"], help="W or W/C per hub: processes / HUB_WEB_CONCURRENCY")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    args = parser.parse_args()
    hubs = []
    for spec in args.hubs:
        workers, _, bound = spec.partition("/")
        if not workers.isdigit() or int(workers) < 1 or (bound and not bound.isdigit()):
            parser.error(f"--hubs: {spec!r} is not W or W/C (W ≥ 1 processes, C ≥ 0 requests at once)")
        hubs.append((int(workers), bound or None))
    if args.clients < 2 or args.seconds <= 0:
        parser.error("--clients ≥ 2 and --seconds > 0")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average before: {os.getloadavg()}")
    print("| processes / bound | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for workers, bound in hubs:
        label = f"{workers} / {bound if bound is not None else 'default'}"
        report(label, run_hub(workers, bound, args.clients, args.seconds, args.warmup))


if __name__ == "__main__":
    main()
