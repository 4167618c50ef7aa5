"""Submitting an evaluation run: a model the core can load (a causal decoder) at a pinned commit,
and a suite — one shipped with the hub, or a suite file in a dataset repository whose every data
file is there at the pinned commit with the sha256 the suite names.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from common.errors import ValidationError
from registry.choices import RepoType
from registry.snapshots import snapshot_materialize
from registry.trees import tree_files
from training_runner.jobs.choices import RunKind
from training_runner.jobs.models import Run
from training_runner.jobs.services.submit_inputs import (
    Pinned,
    check_loadable_model,
    pin_repo,
    pinned_fields,
    pinned_tree,
    run_queue,
)

MAX_SUITE_FILE_BYTES = 1024 * 1024

SUITE_REPO_PREFIX = "datasets/"
DEFAULT_SUITE_FILE = "suite.yaml"


@dataclass(frozen=True)
class SuiteChoice:
    name: str  # a shipped suite's name, or "datasets/ns/name"
    hash: str
    suite: Any  # the loaded ``evals.harness.suite.Suite``
    pinned: Pinned | None = None  # the dataset repository holding the suite
    file: str = ""


def _suite_error(message: str) -> ValidationError:
    return ValidationError(message, fields={"suite": [message]})


def check_suite(*, user, suite: Any, suite_revision: Any = None, suite_file: Any = None) -> SuiteChoice:
    """A shipped suite, or a suite file in a dataset repository whose every pinned data file is
    in that repository at the pinned commit with the sha256 the suite names."""
    from evals.harness.errors import EvalError
    from evals.harness.suite import available_suites, load_suite

    if not isinstance(suite, str) or not suite:
        raise _suite_error(f"suite must be one of {', '.join(available_suites())} or datasets/<namespace>/<name>.")
    if not suite.startswith(SUITE_REPO_PREFIX):
        if suite not in available_suites():
            raise _suite_error(
                f"Unknown suite {suite!r}: use one of {', '.join(available_suites())} "
                "or a suite in a dataset repository (datasets/<namespace>/<name>)."
            )
        try:
            loaded = load_suite(suite, data_root=Path(settings.HUB_SHARED_DATA))
        except EvalError as exc:
            raise _suite_error(f"The data of suite {suite} is not available on this hub: {exc}") from None
        return SuiteChoice(name=suite, hash=loaded.content_hash(), suite=loaded)
    pinned = pin_repo(
        user=user,
        repo_type=RepoType.DATASET,
        ref=suite.removeprefix(SUITE_REPO_PREFIX),
        revision=suite_revision,
        field="suite",
        revision_field="suite_revision",
    )
    path = suite_file or DEFAULT_SUITE_FILE
    if not isinstance(path, str) or not path.endswith((".yaml", ".yml")):
        raise ValidationError("suite_file must name a .yaml file.", fields={"suite_file": ["A YAML file."]})
    tree = pinned_tree(pinned)
    files = {info.path: info for info in tree_files(tree)}
    if path not in files:
        raise ValidationError(
            f"{pinned.repo.repo_id} has no {path} at {pinned.commit[:12]}.",
            fields={"suite_file": ["Not in the repository."]},
        )
    # The suite and task definitions (and small indexes) are read here; the data files only by the worker.
    small = [
        glob.escape(p)
        for p, info in files.items()
        if p.endswith((".yaml", ".yml", ".json")) and info.size <= MAX_SUITE_FILE_BYTES
    ]
    root = snapshot_materialize(
        repo=pinned.repo, commit_oid=pinned.commit, root=settings.HUB_SNAPSHOT_DIR, patterns=small
    )
    try:
        loaded = load_suite(root / path, data_root=root)
    except EvalError as exc:
        raise _suite_error(f"{path}: {exc}".replace(str(root) + "/", "")) from None
    for task in loaded.tasks:
        for data_file in task.data_files().values():
            held = files.get(data_file.path)
            if held is None:
                raise _suite_error(
                    f"task {task.name}: {data_file.path} is not in {pinned.repo.repo_id} at {pinned.commit[:12]}."
                )
            if held.sha256 != data_file.sha256:
                raise _suite_error(
                    f"task {task.name}: {data_file.path} has sha256 {held.sha256} at "
                    f"{pinned.commit[:12]}, but the suite pins {data_file.sha256}."
                )
    return SuiteChoice(name=suite, hash=loaded.content_hash(), suite=loaded, pinned=pinned, file=path)


def _limit(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1_000_000:
        raise ValidationError("limit must be a whole number from 1 to 1000000.", fields={"limit": ["Invalid."]})
    return value


def evaluation_run_submit(
    *,
    user,
    model: Any,
    suite: Any,
    revision: Any = None,
    suite_revision: Any = None,
    suite_file: Any = None,
    limit: Any = None,
    site_url: str = "",
    parent: Run | None = None,
) -> Run:
    """Check and queue an evaluation run of ``model`` at ``revision`` on ``suite``."""
    limit = _limit(limit)
    pinned = pin_repo(
        user=user, repo_type=RepoType.MODEL, ref=model, revision=revision, field="model", revision_field="revision"
    )
    check_loadable_model(pinned=pinned, field="model", decoder=True)
    choice = check_suite(user=user, suite=suite, suite_revision=suite_revision, suite_file=suite_file)
    return run_queue(
        user=user,
        kind=RunKind.EVALUATION,
        reason=f"Submitted by {user.username}." if parent is None else f"Follows training run {parent.pk}.",
        site_url=site_url,
        parent=parent,
        **pinned_fields("model", pinned),
        **pinned_fields("dataset", choice.pinned),
        suite=choice.name,
        suite_file=choice.file,
        suite_hash=choice.hash,
        limit=limit,
    )
