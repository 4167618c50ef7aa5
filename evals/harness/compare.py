"""Comparing two runs item by item (paired bootstrap on the per-sample logs).

Two runs are comparable on a task only if the task hashes agree (same prompts, same data, same
scoring); items are matched by id, and only items both runs scored take part.
"""

from dataclasses import dataclass
from pathlib import Path

from evals.harness.errors import EvalError
from evals.harness.hashing import derive_seed
from evals.harness.metrics import PairedComparison, paired_bootstrap
from evals.harness.outputs import read_results, read_samples


@dataclass(frozen=True)
class TaskComparison:
    task: str
    comparison: PairedComparison


def compare_runs(run_a: Path, run_b: Path, *, seed: int = 1234, iters: int = 10000) -> list[TaskComparison]:
    """A − B for every metric of every task the two output directories share."""
    results_a, results_b = _results(run_a), _results(run_b)
    shared = [name for name in results_a["tasks"] if name in results_b["tasks"]]
    if not shared:
        raise EvalError(f"{run_a} and {run_b} have no task in common")
    out = []
    for task in shared:
        hash_a, hash_b = results_a["tasks"][task]["task_hash"], results_b["tasks"][task]["task_hash"]
        if hash_a != hash_b:
            raise EvalError(f"task {task}: the runs used different task versions ({hash_a[:12]} vs {hash_b[:12]})")
        items_a = {record["item_id"]: record["metrics"] for record in read_samples(run_a, task)}
        items_b = {record["item_id"]: record["metrics"] for record in read_samples(run_b, task)}
        common = [item_id for item_id in items_a if item_id in items_b]
        if not common:
            raise EvalError(f"task {task}: the runs scored no item in common")
        for metric in results_a["tasks"][task]["metrics"]:
            comparison = paired_bootstrap(
                metric,
                [items_a[i][metric] for i in common],
                [items_b[i][metric] for i in common],
                seed=derive_seed("paired", seed, hash_a, metric),
                iters=iters,
            )
            out.append(TaskComparison(task, comparison))
    return out


def _results(run: Path) -> dict:
    try:
        return read_results(run)
    except FileNotFoundError:
        raise EvalError(f"{run} has no results.json") from None
