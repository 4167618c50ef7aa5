"""Run overhead: training tokens/s of a run through the hub vs ``run_training`` called directly.

The hub's run goes through everything a user's run goes through: the submission service, the fair
queue, the broker, a real Celery worker process, the snapshot of the dataset repository, the
metrics and log recorder, checkpoints copied to the hub's storage, and publishing. The direct call
trains the very same config on the very same files in this process. Rounds alternate the two, so
load from other processes hits both alike; both use the same number of torch threads.

Throughput is the training loop's: tokens seen / seconds since the trainer started, as the core
reports them at the last step (validation and checkpoint writes inside the loop included). The
end-to-end seconds (submission to ``succeeded``, call to return) are printed beside it.

    python benchmarks/run_overhead.py                  # 3 rounds, 150 steps of a 4-layer model
    python benchmarks/run_overhead.py --rounds 5 --steps 300

Target: hub / direct ≥ 0.95 (median of the rounds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PARAMS = {
    "model.hidden_size": 128,
    "model.num_layers": 4,
    "model.num_heads": 4,
    "model.num_kv_heads": 2,
    "model.max_position_embeddings": 128,
    "tokenizer.vocab_size": 2048,
    "data.seq_len": 128,
    "train.batch_size": 8,
    "train.eval_interval": 50,
    "train.eval_batches": 4,
    "train.checkpoint_interval": 50,
    "optim.warmup_steps": 10,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for both sides")
    return parser.parse_args()


def setup_django(data_dir: Path, threads: int) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        HUB_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'hub.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        OMP_NUM_THREADS=str(threads),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def corpus_files() -> dict[str, bytes]:
    """The wiki corpus of the offline data kit, or generated text when the kit is absent."""
    wiki = Path(os.environ.get("HUB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "wiki"
    if (wiki / "train.txt").exists():
        return {name: (wiki / name).read_bytes() for name in ("train.txt", "valid.txt")}
    import random

    rng = random.Random(0)
    words = [f"w{i}" for i in range(500)]
    docs = ["\n\n".join(" ".join(rng.choice(words) for _ in range(200)) for _ in range(n)) for n in (400, 40)]
    return {"train.txt": docs[0].encode(), "valid.txt": docs[1].encode()}


def start_worker(data_dir: Path, threads: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "default,gpu",
        "-n",
        "bench@%h",
        "--pool",
        "solo",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS=str(threads))
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def loop_throughput(metrics: list[dict]) -> float:
    last = [m for m in metrics if m.get("event") == "train"][-1]
    return last["tokens_seen"] / last["elapsed_s"]


def direct_round(params: dict, dataset_dir: Path, scratch: Path) -> tuple[float, float]:
    from training_runner.core.run import run_training
    from training_runner.jobs.services.submit_training import training_config

    cfg = training_config(recipe="pretrain_clm", params=params, has_base=False)
    cfg.data.path = str(dataset_dir)
    events: list[dict] = []
    started = time.perf_counter()
    run_training(cfg, output_dir=scratch, on_metrics=events.append)
    return loop_throughput(events), time.perf_counter() - started


def hub_round(user, params: dict, output: str, worker: subprocess.Popen) -> tuple[float, float]:
    from training_runner.jobs.models import Run, RunMetric
    from training_runner.jobs.services.submit_training import training_run_submit

    started = time.perf_counter()
    run = training_run_submit(
        user=user, recipe="pretrain_clm", dataset="bench/corpus", params=params, output_repo=output
    )
    while True:
        run.refresh_from_db()
        if run.run_state.finished:
            break
        if worker.poll() is not None:
            raise SystemExit("the worker exited")
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if run.state != "succeeded":
        raise SystemExit(f"run {run.pk} {run.state}: {run.reason}")
    metrics = [m.values for m in RunMetric.objects.filter(run=run).order_by("id")]
    assert isinstance(run, Run)
    return loop_throughput(metrics), seconds


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="run-overhead-") as scratch:
        data_dir = Path(scratch) / "hub"
        setup_django(data_dir, args.threads)
        import torch

        torch.set_num_threads(args.threads)
        from django.conf import settings

        from hub.services.accounts import user_create
        from registry.choices import RepoType
        from registry.services.commits import AddFile, commit_create
        from registry.services.repos import repo_create
        from registry.snapshots import snapshot_materialize
        from registry.storage import stage_bytes

        user = user_create(username="bench", email="bench@example.org", password="bench-password-1")
        repo = repo_create(user=user, namespace=user.namespace, name="corpus", repo_type=RepoType.DATASET)
        files = corpus_files()
        commit = commit_create(
            repo=repo,
            user=user,
            ref="refs/heads/main",
            summary="corpus",
            operations=[AddFile(path=name, staged=stage_bytes(data)) for name, data in files.items()],
        ).commit
        dataset_dir = snapshot_materialize(
            repo=repo, commit_oid=commit.oid, root=settings.HUB_SNAPSHOT_DIR, patterns=list(files)
        )
        params = {**PARAMS, "train.max_steps": args.steps}
        worker = start_worker(data_dir, args.threads)
        rows = []
        try:
            for index in range(args.rounds):
                direct, direct_s = direct_round(params, dataset_dir, Path(scratch) / f"direct-{index}")
                hub, hub_s = hub_round(user, params, f"bench/model-{index}", worker)
                rows.append((direct, hub, direct_s, hub_s))
                print(
                    f"round {index + 1}: direct {direct:8.0f} tok/s ({direct_s:5.1f} s)   "
                    f"hub {hub:8.0f} tok/s ({hub_s:5.1f} s end to end)   ratio {hub / direct:.3f}",
                    flush=True,
                )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    ratios = [hub / direct for direct, hub, _, _ in rows]
    direct_tps, hub_tps, direct_s, hub_s = (statistics.median(column) for column in zip(*rows, strict=True))
    batch, seq = PARAMS["train.batch_size"], PARAMS["data.seq_len"]
    print(f"\nthreads {args.threads}, {args.steps} steps of {batch} x {seq} tokens, {args.rounds} rounds")
    print("| side | median tokens/s | median seconds end to end |")
    print("|---|---|---|")
    print(f"| run_training, direct | {direct_tps:.0f} | {direct_s:.1f} |")
    print(f"| hub run (queue, worker, recorder, checkpoints, publish) | {hub_tps:.0f} | {hub_s:.1f} |")
    spread = f"min {min(ratios):.3f}, max {max(ratios):.3f}"
    print(f"| hub / direct, training loop | {statistics.median(ratios):.3f} ({spread}) | |")
    print("target: hub / direct >= 0.95")


if __name__ == "__main__":
    main()
