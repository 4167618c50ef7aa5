"""``run_suite``: evaluate a model directory on a suite and produce results and per-sample logs.

This is the one call the rest of the hub uses (the Django worker, the CLI, the benchmark)::

    from evals.harness.run import run_suite

    run = run_suite(model_dir="/models/tiny", suite="bigbench_mc", output_dir="/runs/42",
                    progress=lambda event: print(event.stage, event.task, event.done, event.total))
    run.results["suite"]["aggregate"]["value"]

Order of work, so that user errors surface before anything expensive: load the suite and every
task spec, check every data pin, render every prompt and build every request; only then hash and
load the model and score. Errors a user can fix raise :class:`evals.harness.errors.EvalError`.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.harness import metrics as metrics_mod
from evals.harness.adapters import ADAPTERS, DTYPES, load_adapter
from evals.harness.adapters.base import GenerationRequest, LanguageModel
from evals.harness.adapters.hf import check_model_dir
from evals.harness.data import resolve_data_root
from evals.harness.errors import EvalError
from evals.harness.filters import apply_filters, exact_match
from evals.harness.hashing import derive_seed
from evals.harness.outputs import (
    RESULTS_SCHEMA,
    device_info,
    hash_model_dir,
    library_versions,
    run_fingerprint,
    samples_digest,
    samples_jsonl,
    write_outputs,
)
from evals.harness.requests import PreparedItem, PreparedTask, prepare_task
from evals.harness.spec import SCORING_VERSION, TaskSpec
from evals.harness.suite import Suite, load_suite

DEFAULT_SEED = 1234
DEFAULT_BOOTSTRAP_ITERS = 1000


@dataclass(frozen=True)
class ProgressEvent:
    """Reported to the ``progress`` callback.

    ``stage``: ``prepare`` (task ``done`` of ``total`` prepared), ``load_model``, ``score``
    (requests of ``task`` done of ``total``; rolling tasks count windows), ``task_done``
    (tasks done of total; ``metrics`` holds the finished task's summaries as the results JSON
    writes them) and ``done``.
    """

    stage: str
    task: str | None
    done: int
    total: int
    metrics: dict[str, Any] | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class SuiteRun:
    """What a run produced: the results JSON, the per-task sample records, where they were written."""

    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]]
    output_dir: Path | None


def run_suite(
    *,
    model_dir: str | Path,
    suite: str | Path | Suite,
    output_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    limit: int | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    dtype: str = "float32",
    adapter: str = "transformers",
    seed: int = DEFAULT_SEED,
    bootstrap_iters: int = DEFAULT_BOOTSTRAP_ITERS,
    progress: ProgressCallback | None = None,
) -> SuiteRun:
    """Evaluate ``model_dir`` on ``suite`` (a shipped suite name, a suite or task file, or a Suite).

    ``limit`` scores the first N items of each task; ``seed`` fixes few-shot draws and bootstrap
    resamples; ``adapter`` is ``transformers`` or ``core``. With ``output_dir`` the results and
    per-sample logs are written there. Per-item results do not depend on ``batch_size``.
    ``progress`` receives a :class:`ProgressEvent` at every stage and after every batch; an
    exception it raises propagates and stops the run (a worker can cancel that way).
    """
    emit = progress or (lambda event: None)
    started = time.perf_counter()
    _check_options(batch_size=batch_size, adapter=adapter, dtype=dtype)
    device = _resolve_device(device)
    data_root = resolve_data_root(data_dir)
    suite_obj = suite if isinstance(suite, Suite) else load_suite(suite, data_root=data_root)
    prepared = []
    for index, spec in enumerate(suite_obj.tasks):
        emit(ProgressEvent("prepare", spec.name, index, len(suite_obj.tasks)))
        prepared.append(prepare_task(spec, data_root=data_root, limit=limit, seed=seed))
    emit(ProgressEvent("prepare", None, len(prepared), len(prepared)))

    model_path = Path(model_dir)
    check_model_dir(model_path)
    model_files = hash_model_dir(model_path)
    emit(ProgressEvent("load_model", None, 0, 1))
    lm = load_adapter(adapter, model_path, device=device, dtype=dtype)
    emit(ProgressEvent("load_model", None, 1, 1))

    scoring_started = time.perf_counter()
    samples: dict[str, list[dict[str, Any]]] = {}
    summaries: dict[str, dict[str, metrics_mod.MetricSummary]] = {}
    for index, task in enumerate(prepared):
        samples[task.spec.name] = _score_task(lm, task, batch_size=batch_size, emit=emit)
        summaries[task.spec.name] = _summarize_task(
            task, samples[task.spec.name], seed=seed, bootstrap_iters=bootstrap_iters
        )
        finished = {name: summary.to_json() for name, summary in summaries[task.spec.name].items()}
        emit(ProgressEvent("task_done", task.spec.name, index + 1, len(prepared), metrics=finished))
    timing = {
        "seconds_total": round(time.perf_counter() - started, 3),
        "seconds_scoring": round(time.perf_counter() - scoring_started, 3),
        "items": sum(len(task.items) for task in prepared),
    }

    sample_texts = {name: samples_jsonl(records) for name, records in samples.items()}
    config = {
        "adapter": adapter,
        "batch_size": batch_size,
        "bootstrap_iters": bootstrap_iters,
        "device": device,
        "dtype": dtype,
        "limit": limit,
        "seed": seed,
    }
    results = _results_json(
        suite_obj,
        prepared,
        summaries,
        sample_texts=sample_texts,
        model={"path": str(model_path), "files": model_files, **lm.describe()},
        config=config,
        timing=timing,
    )
    out_path = Path(output_dir) if output_dir is not None else None
    if out_path is not None:
        write_outputs(out_path, results, sample_texts)
    emit(ProgressEvent("done", None, len(prepared), len(prepared)))
    return SuiteRun(results=results, samples=samples, output_dir=out_path)


def _results_json(
    suite: Suite,
    prepared: list[PreparedTask],
    summaries: dict[str, dict[str, metrics_mod.MetricSummary]],
    *,
    sample_texts: dict[str, str],
    model: dict[str, Any],
    config: dict[str, Any],
    timing: dict[str, Any],
) -> dict[str, Any]:
    """The results document; ``fingerprint`` covers every field that determines the numbers."""
    libraries = library_versions()
    determinants = {
        "harness": {"scoring_version": SCORING_VERSION, "version": libraries["evals"]},
        "suite_hash": suite.content_hash(),
        "task_hashes": {task.spec.name: task.task_hash for task in prepared},
        "model_files": model["files"],
        "config": config,
        "libraries": libraries,
        "device": device_info(config["device"]),
    }
    tasks = {}
    for task in prepared:
        tasks[task.spec.name] = _task_json(task, summaries[task.spec.name])
        tasks[task.spec.name]["samples_sha256"] = samples_digest(sample_texts[task.spec.name])
    return {
        "schema": RESULTS_SCHEMA,
        "fingerprint": run_fingerprint(determinants),
        "suite": {
            "name": suite.name,
            "version": suite.version,
            "hash": determinants["suite_hash"],
            "aggregate": _suite_aggregate(suite, summaries),
        },
        "tasks": tasks,
        "model": model,
        "config": config,
        "seeds": {
            "seed": config["seed"],
            "fewshot": "per item: derive_seed('fewshot', task_hash, repr(item_id), seed)",
            "bootstrap": "per task and metric: derive_seed('bootstrap', seed, task_hash, metric)",
        },
        "environment": {"libraries": libraries, "device": determinants["device"]},
        "harness": determinants["harness"],
        "timing": timing,
    }


def _check_options(*, batch_size: int, adapter: str, dtype: str) -> None:
    if batch_size < 1:
        raise EvalError(f"batch size must be >= 1, got {batch_size}")
    if adapter not in ADAPTERS:
        raise EvalError(f"adapter must be one of {', '.join(ADAPTERS)}, got {adapter!r}")
    if dtype not in DTYPES:
        raise EvalError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise EvalError(f"unknown device {device!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise EvalError(f"device {device!r} requested but CUDA is not available")
    return device


def _score_task(
    lm: LanguageModel, task: PreparedTask, *, batch_size: int, emit: ProgressCallback
) -> list[dict[str, Any]]:
    spec = task.spec
    name = spec.name

    def report(done: int, total: int) -> None:
        emit(ProgressEvent("score", name, done, total))

    requests = [request for item in task.items for request in item.requests]
    if spec.output_type in ("multiple_choice", "loglikelihood"):
        results = lm.loglikelihood(
            [(r.context, r.continuation) for r in requests], batch_size=batch_size, progress=report
        )
        responses: list[dict[str, Any]] = [{"logprob": r.logprob, "is_greedy": r.is_greedy} for r in results]
    elif spec.output_type == "loglikelihood_rolling":
        totals = lm.loglikelihood_rolling([r.continuation for r in requests], batch_size=batch_size, progress=report)
        responses = [{"logprob": total} for total in totals]
    else:
        texts = lm.generate_until(
            [GenerationRequest(r.context, r.until, r.max_gen_toks) for r in requests],
            batch_size=batch_size,
            progress=report,
        )
        responses = [{"text": text, "filtered": apply_filters(text, spec.filters)} for text in texts]

    records = []
    position = 0
    for item in task.items:
        item_responses = responses[position : position + len(item.requests)]
        position += len(item.requests)
        records.append(
            {
                "task": name,
                "item_id": item.id,
                "doc": dict(item.doc),
                "prompt": item.prompt,
                "fewshot_ids": item.fewshot_ids,
                "target": item.target,
                "requests": [request.to_log() for request in item.requests],
                "responses": item_responses,
                "metrics": _item_metrics(spec, item, item_responses),
            }
        )
    return records


def _item_metrics(spec: TaskSpec, item: PreparedItem, responses: list[dict[str, Any]]) -> dict[str, Any]:
    wanted = [metric.name for metric in spec.metrics]
    if spec.output_type == "multiple_choice":
        assert item.choices is not None
        assert isinstance(item.target, int)
        values: dict[str, Any] = metrics_mod.multiple_choice_item(
            [r["logprob"] for r in responses], item.choices, item.target
        )
    elif spec.output_type == "loglikelihood":
        values = {"acc": float(responses[0]["is_greedy"]), "perplexity": responses[0]["logprob"]}
    elif spec.output_type == "loglikelihood_rolling":
        values = metrics_mod.rolling_item(responses[0]["logprob"], item.requests[0].continuation)
    else:
        gold = item.choices[item.target] if isinstance(item.target, int) and item.choices else str(item.target)
        metric = spec.metrics[0]
        values = {
            "exact_match": exact_match(
                responses[0]["filtered"],
                gold,
                ignore_case=metric.ignore_case,
                ignore_punctuation=metric.ignore_punctuation,
            )
        }
    return {name: values[name] for name in wanted}


def _summarize_task(
    task: PreparedTask, records: list[dict[str, Any]], *, seed: int, bootstrap_iters: int
) -> dict[str, metrics_mod.MetricSummary]:
    out = {}
    for metric in task.spec.metrics:
        values = [record["metrics"][metric.name] for record in records]
        metric_seed = derive_seed("bootstrap", seed, task.task_hash, metric.name)
        out[metric.name] = metrics_mod.summarize(metric.name, values, seed=metric_seed, bootstrap_iters=bootstrap_iters)
    return out


def _task_json(task: PreparedTask, summaries: dict[str, metrics_mod.MetricSummary]) -> dict[str, Any]:
    spec = task.spec
    return {
        "task_hash": task.task_hash,
        "version": spec.version,
        "output_type": spec.output_type,
        "split": spec.split,
        "num_fewshot": spec.num_fewshot,
        "n": len(task.items),
        "n_available": task.n_available,
        "data_sha256": {split: f.sha256 for split, f in spec.data_files().items()},
        "metrics": {name: summary.to_json() for name, summary in summaries.items()},
        "higher_is_better": {name: metrics_mod.HIGHER_IS_BETTER[name] for name in summaries},
    }


def _suite_aggregate(suite: Suite, summaries: dict[str, dict[str, metrics_mod.MetricSummary]]) -> dict[str, Any] | None:
    if suite.aggregate is None:
        return None
    metric, method = suite.aggregate.metric, suite.aggregate.method
    combined = metrics_mod.combine(metric, method, [summaries[task.name][metric] for task in suite.tasks])
    return {"metric": metric, "method": method, **combined.to_json()}
