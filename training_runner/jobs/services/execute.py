"""Executing a run on a worker: claim it, materialise its pinned inputs from the hub's storage,
call the training core or the evaluation harness, record what they report, and end the run.

The pure engines never see Django: they get plain configs and callbacks (``on_metrics``,
``should_stop``, ``on_checkpoint``, ``progress``). Errors a user can fix (a bad parameter, a
dataset without the column the recipe reads) fail the run with the engine's own message;
infrastructure errors (the database or a broker connection) queue it again, up to
``MAX_ATTEMPTS``; anything else fails it as an internal error and is reported (Sentry).
"""

from __future__ import annotations

import contextlib
import copy
import glob
import logging
import re
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from common.errors import HubError
from registry.snapshots import snapshot_materialize
from training_runner.jobs.choices import LogLevel, RunKind, RunState
from training_runner.jobs.errors import InputGone
from training_runner.jobs.models import EvalSample, Run
from training_runner.jobs.services.artifacts import evaluation_files_store
from training_runner.jobs.services.checkpoints import checkpoint_fetch, checkpoint_store, checkpoints_delete
from training_runner.jobs.services.lifecycle import run_claim, run_finish
from training_runner.jobs.services.publish import training_run_publish
from training_runner.jobs.services.recorder import RunRecorder
from training_runner.jobs.services.signing import evaluation_results_sign
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit
from training_runner.jobs.services.submit_training import DATASET_PLACEHOLDER, MODEL_PLACEHOLDER, dataset_data_files

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
INFRASTRUCTURE_ERRORS = (DatabaseError, ConnectionError, TimeoutError)
SAMPLE_BATCH = 1000


class RunStopped(Exception):
    """Raised inside the harness's progress callback to stop an evaluation on cancel."""


@dataclass
class Outcome:
    state: RunState | None  # None: another attempt owns the run; write nothing
    reason: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    follow_up: bool = False


def run_execute(*, run_id: int, worker: str) -> Run | None:
    """Do one attempt of ``run_id`` on ``worker``; safe to call twice (``run_claim`` decides)."""
    run = run_claim(run_id=run_id, worker=worker)
    if run is None:
        return None
    work = Path(settings.HUB_RUN_WORK_DIR) / f"run-{run.pk}"
    attempt_dir = work / f"attempt-{run.attempt}"
    shutil.rmtree(work, ignore_errors=True)  # what earlier attempts left on this machine
    attempt_dir.mkdir(parents=True)
    with RunRecorder(run=run) as recorder:
        recorder.log(f"Attempt {run.attempt} on {worker}.")
        try:
            engine = _train if run.kind == RunKind.TRAINING else _evaluate
            outcome = engine(run, recorder, attempt_dir)
        except INFRASTRUCTURE_ERRORS as exc:
            recorder.log(f"Infrastructure error: {exc}", level=LogLevel.ERROR)
            logger.exception("run %s: infrastructure error", run.pk)
            again = run.attempt < MAX_ATTEMPTS
            outcome = Outcome(
                RunState.QUEUED if again else RunState.FAILED,
                f"Infrastructure error ({type(exc).__name__}: {exc}); "
                + ("queued again." if again else f"gave up after {run.attempt} attempts."),
            )
        except Exception as exc:
            outcome = _failure(run, recorder, exc)
        if recorder.superseded:
            outcome = Outcome(None)
    if outcome.state is None:
        logger.info("run %s: attempt %s was superseded; its outcome is dropped", run.pk, run.attempt)
        return None
    stopping = recorder.worker_stopping
    finished = run_finish(
        run_id=run.pk,
        attempt=run.attempt,
        to=outcome.state,
        reason=outcome.reason,
        dispatch=not stopping,
        **outcome.fields,
    )
    if outcome.state != RunState.QUEUED:
        shutil.rmtree(work, ignore_errors=True)
    if finished is not None and outcome.state == RunState.SUCCEEDED and run.kind == RunKind.TRAINING:
        checkpoints_delete(run_id=run.pk)
        _evaluate_after(finished)
    return finished


def _failure(run: Run, recorder: RunRecorder, exc: BaseException) -> Outcome:
    """A user-facing reason for ``exc``: the engine's message for errors a user can fix, a short
    'internal error' (with the traceback in the log and Sentry) for the rest."""
    from evals.harness.errors import EvalError
    from training_runner.core.errors import ConfigError

    # ValueError: what the core raises for data it cannot read ("file:line: not JSON").
    if isinstance(exc, ConfigError | EvalError | HubError | ValueError):
        message = _without_local_paths(exc.message if isinstance(exc, HubError) else str(exc))
        recorder.log(message, level=LogLevel.ERROR)
        return Outcome(RunState.FAILED, message)
    recorder.log("".join(traceback.format_exception(exc)).rstrip(), level=LogLevel.ERROR)
    logger.exception("run %s failed", run.pk, exc_info=exc)
    return Outcome(RunState.FAILED, f"Internal error ({type(exc).__name__}: {exc}).")


def _without_local_paths(message: str) -> str:
    """Messages name files by their repository path, not by where this worker keeps snapshots."""
    root = re.escape(str(Path(settings.HUB_SNAPSHOT_DIR)))
    return re.sub(rf"{root}/\d+/[0-9a-f]{{40}}(-[0-9a-f]{{12}})?/?", "", message)


def _snapshot(repo, commit: str, patterns=None) -> Path:
    return snapshot_materialize(repo=repo, commit_oid=commit, root=settings.HUB_SNAPSHOT_DIR, patterns=patterns)


def _require(repo, name: str, what: str):
    if repo is None:
        raise InputGone(f"The {what} repository {name} no longer exists.")
    return repo


# ----------------------------------------------------------------------------- training


def training_config_for(run: Run, *, dataset_dir: Path, model_dir: Path | None):
    """The run's validated config with this worker's paths and the card's lineage filled in."""
    from training_runner.core.config import TrainConfig

    data = copy.deepcopy(run.config)
    data["data"]["path"] = str(dataset_dir)
    if data["model"]["path"] == MODEL_PLACEHOLDER:
        data["model"]["path"] = str(model_dir)
    run_url = f"{run.site_url.rstrip('/')}{run.web_path}" if run.site_url else None
    inputs: dict[str, Any] = {"datasets": [{"repo": run.dataset_repo_name, "commit": run.dataset_commit}]}
    if run.model_repo_name:
        inputs["base_model"] = {"repo": run.model_repo_name, "commit": run.model_commit}
    data["card"].update(
        model_name=run.output_repo_name.split("/")[-1],
        repo_id=run.output_repo_name,
        run_url=run_url,
        datasets=[run.dataset_repo_name],
        base_model=run.model_repo_name or None,
        # The card's own extra keys (``card.metadata``, e.g. ``leaderboards``), with the run's lineage.
        metadata={
            **data["card"].get("metadata", {}),
            "training_run": {"id": run.pk, "url": run_url, "recipe": run.recipe, "inputs": inputs},
        },
    )
    assert data["data"]["path"] != DATASET_PLACEHOLDER
    return TrainConfig.from_dict(data)


def _train(run: Run, recorder: RunRecorder, attempt_dir: Path) -> Outcome:
    from training_runner.core.run import run_training

    recorder.update(stage="preparing")
    dataset = _require(run.dataset_repo, run.dataset_repo_name, "dataset")
    tree = dataset.commits.get(oid=run.dataset_commit).tree_oid
    patterns = [glob.escape(info.path) for info in dataset_data_files(tree)]
    dataset_dir = _snapshot(dataset, run.dataset_commit, patterns)
    recorder.log(f"Dataset {run.dataset_repo_name}@{run.dataset_commit[:12]}: {len(patterns)} data files.")
    model_dir = None
    if run.model_commit:
        model_dir = _snapshot(_require(run.model_repo, run.model_repo_name, "base model"), run.model_commit)
        recorder.log(f"Base model {run.model_repo_name}@{run.model_commit[:12]}.")
    cfg = training_config_for(run, dataset_dir=dataset_dir, model_dir=model_dir)
    resume = checkpoint_fetch(run=run, destination=attempt_dir / "resume")
    if resume is not None:
        recorder.log(f"Resuming from the checkpoint of step {run.checkpoint_step}.")
    speed = _Speed(total=cfg.train.max_steps)

    def on_metrics(values: dict) -> None:
        recorder.metric(values)
        if values.get("event") == "train":
            recorder.update(stage="training", **speed.observe(values))

    def on_checkpoint(path: Path) -> None:
        step = int(path.name.removeprefix("step-"))
        if checkpoint_store(run_id=run.pk, attempt=run.attempt, step=step, directory=path):
            recorder.update(checkpoint_step=step)
            recorder.log(f"Checkpoint of step {step} saved to the hub's storage.")

    recorder.update(stage="training")
    with contextlib.redirect_stdout(recorder.stdout()):
        result = run_training(
            cfg,
            output_dir=attempt_dir / "out",
            on_metrics=on_metrics,
            should_stop=recorder.should_stop,
            resume_from=resume,
            on_checkpoint=on_checkpoint,
        )
    if recorder.superseded:
        return Outcome(None)
    if result.stopped and recorder.worker_stopping:
        reason = f"The worker shut down at step {result.steps}; the run resumes from that checkpoint on the next one."
        return Outcome(RunState.QUEUED, reason)
    if result.stopped:
        reason = f"Cancelled at step {result.steps}; the checkpoint of step {result.steps} is kept."
        return Outcome(RunState.CANCELLED, reason, {"results": result.metrics})
    recorder.update(stage="publishing")
    published = training_run_publish(run_id=run.pk, attempt=run.attempt, output_dir=result.output_dir)
    if published is None:
        return Outcome(None)
    where = f"pull request #{published.pull_request} of " if published.pull_request else ""
    reason = f"Published to {where}{published.repo.repo_id} as commit {published.commit[:12]}."
    recorder.log(reason)
    return Outcome(RunState.SUCCEEDED, reason, {"results": result.metrics, "step": result.steps})


class _Speed:
    """Tokens per second (smoothed) and the time left, from the core's per-step metrics."""

    def __init__(self, *, total: int) -> None:
        self.total, self.rate, self.seconds_per_step = total, None, None
        self._last: tuple[int, float] | None = None

    def observe(self, values: dict) -> dict[str, Any]:
        step, elapsed = int(values["step"]), float(values["elapsed_s"])
        tokens = float(values.get("tokens_per_s", 0.0))
        self.rate = tokens if self.rate is None else 0.9 * self.rate + 0.1 * tokens
        if self._last is not None and step > self._last[0]:
            per_step = (elapsed - self._last[1]) / (step - self._last[0])
            self.seconds_per_step = (
                per_step if self.seconds_per_step is None else 0.9 * self.seconds_per_step + 0.1 * per_step
            )
        self._last = (step, elapsed)
        eta = None if self.seconds_per_step is None else round(self.seconds_per_step * (self.total - step), 1)
        return {"step": step, "tokens_per_s": round(self.rate, 1), "eta_s": eta}


def _evaluate_after(run: Run) -> None:
    """Queue the evaluations a training run asked for, on the commit it published."""
    for suite in run.evaluate_after or []:
        try:
            evaluation_run_submit(
                user=run.user,
                model=run.output_repo_name,
                revision=run.output_commit,
                suite=suite,
                site_url=run.site_url,
                parent=run,
            )
        except HubError as exc:
            logger.warning("run %s: the evaluation on %s was not queued: %s", run.pk, suite, exc.message)


# ----------------------------------------------------------------------------- evaluation


def _evaluate(run: Run, recorder: RunRecorder, attempt_dir: Path) -> Outcome:
    from evals.harness.run import run_suite
    from evals.harness.suite import load_suite

    recorder.update(stage="preparing")
    model_dir = _snapshot(_require(run.model_repo, run.model_repo_name, "model"), run.model_commit)
    if run.dataset_commit:
        data_dir = _snapshot(_require(run.dataset_repo, run.dataset_repo_name, "suite"), run.dataset_commit)
        suite = load_suite(data_dir / run.suite_file, data_root=data_dir)
    else:
        data_dir = Path(settings.HUB_SHARED_DATA)
        suite = load_suite(run.suite, data_root=data_dir)
    if suite.content_hash() != run.suite_hash:
        return Outcome(
            RunState.FAILED,
            f"The suite's content hash is {suite.content_hash()}, not the "
            f"{run.suite_hash} it had when the run was submitted.",
        )
    recorder.log(
        f"Model {run.model_repo_name}@{run.model_commit[:12]}; suite {suite.name} v{suite.version} "
        f"({len(suite.tasks)} tasks, hash {run.suite_hash[:12]})."
    )
    scores: dict[str, Any] = {}

    def progress(event) -> None:
        if recorder.should_stop():
            raise RunStopped
        if event.stage == "score":
            fraction = event.done / event.total if event.total else 1.0
            recorder.update(stage="scoring", task=event.task, task_fraction=round(fraction, 4))
        elif event.stage == "task_done":
            scores[event.task] = event.metrics
            recorder.update(step=event.done, total_steps=event.total, scores=dict(scores), task_fraction=0.0)
            shown = ", ".join(f"{name}={m['value']:.4g}" for name, m in event.metrics.items())
            recorder.log(f"{event.task}: {shown}")
        elif event.stage == "load_model":
            recorder.update(stage="loading model", total_steps=len(suite.tasks))

    try:
        with contextlib.redirect_stdout(recorder.stdout()):
            outcome = run_suite(
                model_dir=model_dir,
                suite=suite,
                data_dir=data_dir,
                limit=run.limit,
                batch_size=settings.HUB_EVAL_BATCH_SIZE,
                device="auto",
                adapter="core",
                progress=progress,
                output_dir=attempt_dir / "eval",
            )
    except RunStopped:
        if recorder.superseded:
            return Outcome(None)
        if recorder.worker_stopping:
            return Outcome(RunState.QUEUED, "The worker shut down; the evaluation starts again on the next one.")
        return Outcome(RunState.CANCELLED, f"Cancelled after {len(scores)} of {len(suite.tasks)} tasks.")
    results = outcome.results
    evaluation_files_store(run_id=run.pk, directory=attempt_dir / "eval")
    if not evaluation_results_store(run=run, results=results, samples=outcome.samples):
        return Outcome(None)
    signed = evaluation_results_sign(run=run, results=results)
    aggregate = results["suite"].get("aggregate")
    headline = f"; {aggregate['metric']} = {aggregate['value']:.4g}" if aggregate else ""
    return Outcome(
        RunState.SUCCEEDED,
        f"Scored {sum(len(s) for s in outcome.samples.values())} items{headline}.",
        {"results": results, "fingerprint": results["fingerprint"], "signed_results": signed},
    )


def evaluation_results_store(*, run: Run, results: dict, samples: dict[str, list[dict]]) -> bool:
    """Replace the run's per-item records with ``samples``; False when the attempt lost the run."""
    rows = []
    for task, records in samples.items():
        for position, record in enumerate(records):
            acc = record["metrics"].get("acc")
            rows.append(
                EvalSample(
                    run_id=run.pk,
                    task=task,
                    item_id=str(record["item_id"]),
                    position=position,
                    correct=None if acc is None else bool(acc),
                    record=record,
                )
            )
    with transaction.atomic():
        owned = Run.objects.select_for_update().filter(pk=run.pk, attempt=run.attempt, state=RunState.RUNNING)
        if not owned.exists():
            return False
        EvalSample.objects.filter(run_id=run.pk).delete()
        EvalSample.objects.bulk_create(rows, batch_size=SAMPLE_BATCH)
    return True
