"""Submitting a training run: the recipe and its parameters (checked by the training core's own
config class), the base model and dataset pinned by commit (the dataset with the columns the
recipe reads), where the result may be published, and the suites to evaluate it on after.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from common.errors import PermissionDenied, ValidationError
from hub.models import Namespace
from registry.access import Permission, access_repo
from registry.choices import RepoType
from registry.errors import RepoNotFound
from registry.models import Repo
from registry.selectors.pages import file_read
from registry.services.repos import check_can_create_in, repo_name_validate
from registry.trees import FileInfo, tree_files
from training_runner.core.config import RECIPES, TrainConfig
from training_runner.core.errors import ConfigError
from training_runner.jobs.choices import OutputMode, RunKind
from training_runner.jobs.models import Run
from training_runner.jobs.services.submit_inputs import (
    Pinned,
    check_loadable_model,
    pin_repo,
    pinned_fields,
    pinned_tree,
    repo_id_split,
    revision_value,
    run_queue,
)

CONFIGS_DIR = Path(__file__).resolve().parents[2] / "configs"
# Paths on the worker: filled in when the run starts (``execute.training_config``).
DATASET_PLACEHOLDER = "<dataset snapshot>"
MODEL_PLACEHOLDER = "<base model snapshot>"
# Keys the hub sets itself; a run's parameters may not.
RESERVED_PARAMS = (
    "recipe",
    "output_dir",
    "data.path",
    "data.cache_dir",
    "model.source",
    "model.path",
    "tokenizer.path",
    "train.device",
    "card.datasets",
    "card.base_model",
    "card.model_name",
    "card.repo_id",
    "card.run_url",
    "card.metadata.training_run",
)
DATA_SUFFIXES = (".txt", ".jsonl", ".parquet")
# Files of a dataset repository that are never training data.
NOT_DATA_PREFIXES = ("license", "licence", "notice", "copying", "citation", "readme")
MAX_PEEK_BYTES = 256 * 1024


def parse_param_lines(text: str) -> dict[str, Any]:
    """``key=value`` lines (values in YAML, as ``--set`` takes them) from a form's text box."""
    params: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"Line {number} is not key=value: {line!r}", fields={"params": [f"Line {number}."]})
        try:
            params[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            message = f"Line {number}: the value is not valid YAML."
            raise ValidationError(message, fields={"params": [message]}) from None
    return params


def _set_dotted(data: dict, key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = data
    for name in parents:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise ConfigError(key, f"{name!r} is not a section")
    node[leaf] = value


def training_config(*, recipe: str, params: dict[str, Any], has_base: bool) -> TrainConfig:
    """The run's config: the recipe's YAML defaults, the user's ``params`` (dotted keys), and the
    keys the hub decides (placeholder paths, the model source, checkpoints). Field errors name
    ``params.<key>``."""
    if recipe not in RECIPES:
        raise ValidationError(
            f"Unknown recipe {recipe!r}; recipes: {', '.join(RECIPES)}.", fields={"recipe": ["Unknown recipe."]}
        )
    if not isinstance(params, dict) or not all(isinstance(k, str) and k for k in params):
        raise ValidationError("params must map dotted keys to values.", fields={"params": ["Invalid."]})
    reserved = sorted(k for k in params if k in RESERVED_PARAMS)
    metadata = params.get("card.metadata")
    if isinstance(metadata, dict) and "training_run" in metadata:
        reserved.append("card.metadata.training_run")
    if reserved:
        raise ValidationError(
            f"The hub sets {', '.join(reserved)} itself.", fields={f"params.{k}": ["Set by the hub."] for k in reserved}
        )
    data = yaml.safe_load((CONFIGS_DIR / f"{recipe}.yaml").read_text())
    data = copy.deepcopy(data)
    try:
        for key, value in params.items():
            _set_dotted(data, key, value)
    except ConfigError as exc:
        raise ValidationError(str(exc), fields={f"params.{exc.key}": [exc.detail]}) from None
    data["output_dir"] = None
    data["data"]["path"] = DATASET_PLACEHOLDER
    data["data"]["cache_dir"] = None
    data["model"]["source"] = "pretrained" if has_base else "scratch"
    data["model"]["path"] = MODEL_PLACEHOLDER if has_base else None
    tokenizer = data["tokenizer"]
    if "tokenizer.source" not in params:
        # A pretrained model keeps its own tokenizer; a new one learns one from the data.
        if has_base:
            tokenizer["source"] = "model"
        elif tokenizer["source"] == "model":
            tokenizer["source"] = "train"
    if tokenizer["source"] == "file":
        raise ValidationError(
            "tokenizer.source 'file' is not available for hub runs.",
            fields={"params.tokenizer.source": ["Use train, gpt2 or model."]},
        )
    if not data["train"].get("checkpoint_interval") and "train.checkpoint_interval" not in params:
        data["train"]["checkpoint_interval"] = settings.HUB_RUN_CHECKPOINT_STEPS
    try:
        cfg = TrainConfig.from_dict(data)
    except ConfigError as exc:
        if exc.key in ("model.source", "model.path") or (exc.key == "tokenizer.source" and not has_base):
            message = f"the {recipe} recipe fine-tunes a base model: choose one" if not has_base else str(exc)
            raise ValidationError(message, fields={"base_model": [message]}) from None
        raise ValidationError(str(exc), fields={f"params.{exc.key}": [exc.detail]}) from None
    if cfg.train.max_steps > settings.HUB_RUN_MAX_STEPS:
        raise ValidationError(
            f"train.max_steps may be at most {settings.HUB_RUN_MAX_STEPS} on this hub.",
            fields={"params.train.max_steps": [f"At most {settings.HUB_RUN_MAX_STEPS}."]},
        )
    return cfg


def dataset_data_files(tree: str) -> list[FileInfo]:
    """The data files a training run reads from a dataset repository (no licence or read-me text)."""
    files = []
    for info in tree_files(tree):
        name = info.path.rsplit("/", 1)[-1].lower()
        hidden = any(part.startswith(".") for part in info.path.split("/"))
        if info.path.endswith(DATA_SUFFIXES) and not hidden and not name.startswith(NOT_DATA_PREFIXES):
            files.append(info)
    return files


def _required_columns(cfg: TrainConfig) -> list[tuple[str, str]]:
    """(field, config key) pairs every record of a .jsonl dataset must have for this recipe."""
    if cfg.recipe == "classify":
        return [(cfg.classify.text_field, "classify.text_field"), (cfg.classify.label_field, "classify.label_field")]
    if cfg.recipe == "sft" or (cfg.recipe == "lora" and cfg.lora.objective == "sft"):
        return []  # messages, or a prompt/completion pair: checked per record by the core
    return [(cfg.data.text_field, "data.text_field")]


def check_dataset(*, pinned: Pinned, cfg: TrainConfig) -> list[str]:
    """The dataset's data file paths, after checking it has some and that the first record of each
    JSON Lines file has the columns the recipe reads (other formats are checked by the worker)."""
    files = dataset_data_files(pinned_tree(pinned))
    if not files:
        message = f"{pinned.repo.repo_id} has no {', '.join(DATA_SUFFIXES)} data files at {pinned.commit[:12]}."
        raise ValidationError(message, fields={"dataset": [message]})
    for info in files:
        if not info.path.endswith(".jsonl"):
            continue
        head = file_read(file=info, limit=MAX_PEEK_BYTES).split(b"\n", 1)[0]
        try:
            record = json.loads(head)
        except (UnicodeDecodeError, json.JSONDecodeError):
            message = f"{info.path}: the first line is not a JSON record."
            raise ValidationError(message, fields={"dataset": [message]}) from None
        if not isinstance(record, dict):
            raise ValidationError(f"{info.path}: records must be JSON objects.", fields={"dataset": ["Not objects."]})
        for column, key in _required_columns(cfg):
            if column not in record:
                message = f"{info.path} has no column {column!r} ({key}); its records have {sorted(record)}."
                raise ValidationError(message, fields={"dataset": [message], f"params.{key}": [message]})
    return [info.path for info in files]


@dataclass(frozen=True)
class Output:
    repo: Repo | None  # None: created when the run publishes
    repo_id: str
    mode: OutputMode
    branch: str


def check_output(*, user, repo_id: Any, branch: Any, pull_request: bool) -> Output:
    """Where a training run may publish: a new repository the user may create, a branch of a model
    repository they may write to, or a pull request on one they may read."""
    namespace_name, name = repo_id_split(repo_id, field="output_repo")
    branch = revision_value(branch, field="output_branch")
    if branch.startswith("refs/") or (branch and not all(part for part in branch.split("/"))):
        raise ValidationError("output_branch must be a branch name.", fields={"output_branch": ["Invalid."]})
    mode = OutputMode.PULL_REQUEST if pull_request else OutputMode.BRANCH
    try:
        repo = access_repo(
            user=user,
            repo_type=RepoType.MODEL,
            namespace=namespace_name,
            name=name,
            need=Permission.READ if pull_request else Permission.WRITE,
        )
    except RepoNotFound:
        repo = None
    if repo is not None:
        return Output(repo=repo, repo_id=repo.repo_id, mode=mode, branch=branch or repo.default_branch)
    if pull_request:
        raise ValidationError(
            f"{repo_id} does not exist: a pull request needs an existing repository.",
            fields={"output_repo": ["Not found."]},
        )
    namespace = Namespace.objects.filter(name__iexact=namespace_name).first()
    if namespace is None:
        raise ValidationError(
            f"There is no user or organization {namespace_name!r}.", fields={"output_repo": ["Unknown namespace."]}
        )
    repo_name_validate(name)
    try:
        check_can_create_in(user=user, namespace=namespace)
    except PermissionDenied as exc:
        raise ValidationError(exc.message, fields={"output_repo": [exc.message]}) from None
    return Output(repo=None, repo_id=f"{namespace.name}/{name}", mode=mode, branch=branch or "main")


def _check_suites(suites: Any) -> list[str]:
    from evals.harness.suite import available_suites

    if suites in (None, ""):
        return []
    if not isinstance(suites, list) or not all(isinstance(s, str) for s in suites):
        raise ValidationError("evaluate_after must be a list of suite names.", fields={"evaluate_after": ["List."]})
    unknown = sorted(set(suites) - set(available_suites()))
    if unknown:
        raise ValidationError(f"Unknown suites: {', '.join(unknown)}.", fields={"evaluate_after": ["Unknown suite."]})
    return list(dict.fromkeys(suites))


def training_run_submit(
    *,
    user,
    recipe: Any,
    dataset: Any,
    output_repo: Any,
    params: dict[str, Any] | None = None,
    base_model: Any = None,
    base_revision: Any = None,
    dataset_revision: Any = None,
    output_branch: Any = None,
    output_pull_request: bool = False,
    evaluate_after: Any = None,
    site_url: str = "",
) -> Run:
    """Check and queue a training run; nothing is queued when any input is wrong."""
    params = {} if params is None else params
    if not isinstance(recipe, str):
        raise ValidationError("recipe must be a string.", fields={"recipe": ["Invalid."]})
    base = None
    if base_model not in (None, ""):
        base = pin_repo(
            user=user,
            repo_type=RepoType.MODEL,
            ref=base_model,
            revision=base_revision,
            field="base_model",
            revision_field="base_revision",
        )
    cfg = training_config(recipe=recipe, params=params, has_base=base is not None)
    if base is not None:
        check_loadable_model(pinned=base, field="base_model", recipe=recipe, tokenizer=cfg.tokenizer.source == "model")
    data = pin_repo(
        user=user,
        repo_type=RepoType.DATASET,
        ref=dataset,
        revision=dataset_revision,
        field="dataset",
        revision_field="dataset_revision",
    )
    check_dataset(pinned=data, cfg=cfg)
    output = check_output(user=user, repo_id=output_repo, branch=output_branch, pull_request=bool(output_pull_request))
    suites = _check_suites(evaluate_after)
    return run_queue(
        user=user,
        kind=RunKind.TRAINING,
        reason=f"Submitted by {user.username}.",
        site_url=site_url,
        recipe=recipe,
        params=params,
        config=cfg.to_dict(),
        evaluate_after=suites,
        **pinned_fields("model", base),
        **pinned_fields("dataset", data),
        output_repo=output.repo,
        output_repo_name=output.repo_id,
        output_mode=output.mode,
        output_branch=output.branch,
        total_steps=cfg.train.max_steps,
    )
