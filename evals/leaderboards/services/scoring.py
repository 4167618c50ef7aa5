"""What a board shows of a finished entry, and the board's ranks.

``entry_score`` copies the entry's numbers out of its run's results (one value and 95 % interval
per column, the normalised score ``(raw − chance) / (1 − chance)`` where a column has a chance
level), the model's facts (parameters, license, architecture, base model), and the per-item values
of the ranking column, so the board never reads per-item rows to show a page. ``board_rank``
then ranks the current entries by a paired bootstrap over the items (``evals.harness.ranking``).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from evals.harness.ranking import placings, tied_ranks
from evals.leaderboards.choices import EntryState
from evals.leaderboards.models import Entry, Leaderboard
from evals.leaderboards.services.boards import AGGREGATE, board_touch, column_key
from registry.selectors.pages import file_read
from registry.selectors.safetensors import safetensors_parameter_total
from registry.trees import FileInfo, tree_files
from training_runner.jobs.models import EvalSample

CHANCE_METRICS = ("acc", "acc_norm")
RANK_SEED = 0
RANK_ITERS = 1000


def _column_tasks(board: Leaderboard, column: dict[str, Any], results: dict[str, Any]) -> list[str]:
    return list(results["tasks"]) if column["task"] == AGGREGATE else [column["task"]]


def item_values(*, run_id: int, tasks: Sequence[str], metric: str) -> dict[str, list]:
    """Per task, the metric's value of every item in the order the harness scored them."""
    rows = EvalSample.objects.filter(run_id=run_id, task__in=tasks).order_by("task", "position")
    out: dict[str, list] = {task: [] for task in tasks}
    for task, record in rows.values_list("task", "record"):
        out[task].append(record["metrics"][metric])
    return out


def _pack(values: dict[str, list]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{task: np.asarray(items, dtype=np.float64) for task, items in values.items()})
    return buffer.getvalue()


def unpack_values(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(bytes(blob))) as data:
        return {task: data[task] for task in data.files}


def board_chance(*, board: Leaderboard, run_id: int, results: dict[str, Any]) -> dict[str, float]:
    """Chance level of each accuracy column: the expected score of a uniform guess over each
    item's choices, averaged like the column (per task; over tasks as the suite aggregates)."""
    per_task: dict[str, float] = {}
    for task, info in results["tasks"].items():
        if info["output_type"] != "multiple_choice":
            continue
        counts = [
            len(r["requests"])
            for r in EvalSample.objects.filter(run_id=run_id, task=task).values_list("record", flat=True)
        ]
        if counts:
            per_task[task] = math.fsum(1.0 / n for n in counts) / len(counts)
    chance: dict[str, float] = {}
    for column in board.columns:
        if column["metric"] not in CHANCE_METRICS:
            continue
        tasks = _column_tasks(board, column, results)
        if not all(task in per_task for task in tasks):
            continue
        if column["task"] == AGGREGATE and (results["suite"].get("aggregate") or {}).get("method") == "weighted_mean":
            sizes = [results["tasks"][t]["n"] for t in tasks]
            value = math.fsum(per_task[t] * n for t, n in zip(tasks, sizes, strict=True)) / sum(sizes)
        else:
            value = math.fsum(per_task[t] for t in tasks) / len(tasks)
        chance[column_key(column)] = value
    return chance


def _summary(board: Leaderboard, column: dict[str, Any], results: dict[str, Any]) -> dict[str, Any] | None:
    if column["task"] == AGGREGATE:
        summary = results["suite"].get("aggregate")
    else:
        summary = (results["tasks"].get(column["task"]) or {}).get("metrics", {}).get(column["metric"])
    if summary is None:
        return None
    out = {"value": summary["value"], "ci95": summary.get("ci95"), "n": summary.get("n")}
    chance = board.chance.get(column_key(column))
    if chance is not None and chance < 1:
        out["normalized"] = (summary["value"] - chance) / (1 - chance)
    return out


def _model_facts(entry: Entry) -> dict[str, Any]:
    repo = entry.model_repo
    if repo is None:
        return {}
    files = {f.path: f for f in tree_files(repo.commits.get(oid=entry.model_commit).tree_oid)}
    config: dict[str, Any] = {}
    info = files.get("config.json")
    if isinstance(info, FileInfo):
        try:
            config = json.loads(file_read(file=info, limit=1 << 20))
        except (ValueError, UnicodeDecodeError):
            config = {}
    bases = (repo.card_data or {}).get("base_model") or ""
    return {
        "parameters": safetensors_parameter_total(files=[f for p, f in files.items() if p.endswith(".safetensors")]),
        "license": repo.license,
        "architecture": str(config.get("model_type", ""))[:32],
        "base_model": (bases[0] if isinstance(bases, list) and bases else str(bases))[:200],
    }


def entry_score(*, entry_id: int) -> Entry | None:
    """Fill a finished entry's board columns from its run, and make it its model's current entry
    (unless it evaluates a pull request or re-runs another entry)."""
    entry = Entry.objects.select_related("board", "run", "model_repo").filter(pk=entry_id).first()
    if entry is None or entry.state != EntryState.FINISHED or entry.run is None or not entry.run.results:
        return None
    board, results = entry.board, entry.run.results
    if not board.chance:
        board.chance = board_chance(board=board, run_id=entry.run_id, results=results)
        board.save(update_fields=["chance"])
    entry.scores = {column_key(c): s for c in board.columns if (s := _summary(board, c, results)) is not None}
    primary = board.columns[0]
    entry.primary = (entry.scores.get(column_key(primary)) or {}).get("value")
    tasks = _column_tasks(board, primary, results)
    entry.item_values = _pack(item_values(run_id=entry.run_id, tasks=tasks, metric=primary["metric"]))
    for name, value in _model_facts(entry).items():
        setattr(entry, name, value if value is not None else (None if name == "parameters" else ""))
    ranked = entry.pull_request is None and entry.rerun_of_id is None
    with transaction.atomic():
        if ranked:
            Entry.objects.filter(board=board, model_repo=entry.model_repo, current=True).update(current=False)
            entry.current = True
        entry.save()
    return entry


def board_rank(*, board_id: int) -> int:
    """Rank the board's current entries: scores and ranks with 95 % intervals from a paired
    bootstrap over the items, ties where noise cannot separate entries. Returns how many."""
    board = Leaderboard.objects.get(pk=board_id)
    primary = board.columns[0]
    entries = list(Entry.objects.filter(board=board, current=True, state=EntryState.FINISHED).exclude(item_values=None))
    values = [unpack_values(e.item_values) for e in entries]
    shapes = [{t: len(v) for t, v in vals.items()} for vals in values]
    common = max(shapes, key=shapes.count) if shapes else {}
    comparable = [i for i, shape in enumerate(shapes) if shape == common]
    method = "mean"
    if primary["task"] == AGGREGATE and entries:
        method = ((entries[0].run.results or {}).get("suite", {}).get("aggregate") or {}).get("method", "mean")
    models = [{t: _items(values[i][t]) for t in common} for i in comparable]
    result = placings(
        models,
        metric=primary["metric"],
        higher_is_better=primary["higher_is_better"],
        method=method,
        seed=RANK_SEED,
        iters=RANK_ITERS,
    )
    shown = tied_ranks(result, higher_is_better=primary["higher_is_better"])
    with transaction.atomic():
        Entry.objects.filter(board=board).exclude(pk__in=[entries[i].pk for i in comparable]).update(
            rank=None, rank_low=None, rank_high=None
        )
        ranked = []
        for index, placing, rank in zip(comparable, result, shown, strict=True):
            entry = entries[index]
            entry.rank, (entry.rank_low, entry.rank_high) = rank, placing.rank_ci95
            ranked.append(entry)
        Entry.objects.bulk_update(ranked, ["rank", "rank_low", "rank_high"], batch_size=500)
        board.ranked_at = timezone.now()
        board.save(update_fields=["ranked_at"])
        board_touch(board_id=board.pk)
    return len(comparable)


def _items(array: np.ndarray) -> list:
    """Per-item values as the harness keeps them: floats, or (log-likelihood, weight) pairs."""
    return array.tolist()
