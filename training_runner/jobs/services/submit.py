"""Submitting runs: check every input, pin it by commit id, and queue the run — or refuse with
field errors and queue nothing.

Everything a user can get wrong is checked here, before a worker spends a second on it: the
recipe and its parameters (by the training core's own config class), read access to every
repository (a private one the caller cannot read is "not found", as everywhere), that a model is
one the core can load (safetensors only), that a dataset has the columns the recipe reads, that a
suite's data files are the ones it pins, and where the result may be published.
"""

from __future__ import annotations

import copy
import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import PermissionDenied, ValidationError
from hub.models import Namespace
from registry.access import Permission, access_repo, check_can_read_files
from registry.choices import RepoType
from registry.errors import RepoNotFound, RevisionNotFound
from registry.models import Repo
from registry.selectors.pages import file_read
from registry.selectors.revisions import revision_resolve
from registry.services.repos import check_can_create_in, repo_name_validate
from registry.snapshots import snapshot_materialize
from registry.trees import FileInfo, tree_files, tree_lookup
from training_runner.core.config import DECODER_ARCHS, RECIPES, TrainConfig, check_pretrained_arch
from training_runner.core.errors import ConfigError
from training_runner.core.hf_config import config_from_hf  # config.json without PyTorch (web processes)
from training_runner.jobs.choices import OutputMode, RunKind, RunState
from training_runner.jobs.errors import QueueFull
from training_runner.jobs.models import Run
from training_runner.jobs.selectors import user_run_counts
from training_runner.jobs.services.lifecycle import run_record_submission, runs_dispatch_on_commit

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
MAX_SUITE_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Pinned:
    """A repository input: the repository, the revision asked for, the commit it resolved to."""

    repo: Repo
    revision: str
    commit: str


# ----------------------------------------------------------------------------- repositories


def _split_repo_id(value: Any, *, field: str) -> tuple[str, str]:
    if not isinstance(value, str) or value.count("/") != 1 or not all(value.split("/")):
        raise ValidationError(f"{field} must be a repository id like 'namespace/name'.", fields={field: ["Invalid."]})
    namespace, name = value.split("/")
    return namespace, name


def _revision(value: Any, *, field: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 255 or any(c in value for c in "\x00\r\n"):
        raise ValidationError(f"{field} must be a branch, tag or commit id.", fields={field: ["Invalid."]})
    return value


def pin_repo(*, user, repo_type: RepoType, ref: Any, revision: Any, field: str, revision_field: str) -> Pinned:
    """The readable repository ``ref`` at ``revision`` (its default branch when empty), pinned to a commit.

    A repository the user may not see is not found (404); a gated one without access is refused
    (403); an unknown revision is a field error.
    """
    namespace, name = _split_repo_id(ref, field=field)
    repo = access_repo(user=user, repo_type=repo_type, namespace=namespace, name=name)
    check_can_read_files(user=user, repo=repo)
    asked = _revision(revision, field=revision_field) or repo.default_branch
    try:
        resolved = revision_resolve(repo=repo, revision=asked)
    except RevisionNotFound as exc:
        raise ValidationError(exc.message, fields={revision_field: [exc.message]}) from None
    return Pinned(repo=repo, revision=asked, commit=resolved.oid)


def _tree(pinned: Pinned) -> str:
    return pinned.repo.commits.get(oid=pinned.commit).tree_oid


def _read_json(tree: str, path: str, *, field: str, limit: int = 1024 * 1024) -> dict:
    info = tree_lookup(tree, path)
    if not isinstance(info, FileInfo):
        raise ValidationError(f"{field}: the repository has no {path}.", fields={field: [f"No {path}."]})
    try:
        data = json.loads(file_read(file=info, limit=limit))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError(f"{field}: {path} is not valid JSON.", fields={field: [f"{path} is not JSON."]}) from None
    if not isinstance(data, dict):
        raise ValidationError(f"{field}: {path} is not a JSON object.", fields={field: ["Invalid config."]})
    return data


def check_loadable_model(
    *, pinned: Pinned, field: str, recipe: str | None = None, tokenizer: bool = True, decoder: bool = False
) -> dict:
    """The model's ``config.json`` when the training core can load the model: a supported
    architecture (suited to ``recipe``; a causal decoder when ``decoder``), safetensors weights
    (pickle-based weights are never loaded) and, when asked, a ``tokenizer.json``. Field errors
    otherwise."""
    tree = _tree(pinned)
    names = {info.path for info in tree_files(tree)}
    hf_config = _read_json(tree, "config.json", field=field)
    try:
        config_from_hf(hf_config)
        if recipe is not None:
            check_pretrained_arch(recipe, str(hf_config.get("model_type")))
    except ConfigError as exc:
        message = f"{pinned.repo.repo_id} cannot be loaded by the training core: {exc}"
        raise ValidationError(message, fields={field: [message]}) from None
    if decoder and hf_config.get("model_type") not in DECODER_ARCHS:
        message = (
            f"{pinned.repo.repo_id} is a {hf_config.get('model_type')!r} model; the evaluation suites score causal "
            f"language models ({', '.join(DECODER_ARCHS)})."
        )
        raise ValidationError(message, fields={field: [message]})
    if not names & {"model.safetensors", "model.safetensors.index.json"}:
        pickled = sorted(n for n in names if n.endswith((".bin", ".pt", ".pth", ".ckpt", ".pkl")))
        detail = f" (it has only {', '.join(pickled)})" if pickled else ""
        message = f"{pinned.repo.repo_id} has no safetensors weights{detail}; only safetensors weights are loaded."
        raise ValidationError(message, fields={field: [message]})
    if tokenizer and "tokenizer.json" not in names:
        message = f"{pinned.repo.repo_id} has no tokenizer.json."
        raise ValidationError(message, fields={field: [message]})
    return hf_config


def _check_queue_room(user) -> None:
    queued = user_run_counts(user=user)[RunState.QUEUED]
    limit = settings.HUB_RUN_MAX_QUEUED_PER_USER
    if queued >= limit:
        raise QueueFull(
            f"You have {queued} queued runs, the most one person may have; cancel one or wait until one starts.",
            retry_after=60,
        )


def _pinned_fields(prefix: str, pinned: Pinned | None) -> dict[str, Any]:
    """The run columns of one pinned input (``model_*`` or ``dataset_*``); blank when absent."""
    if pinned is None:
        return {f"{prefix}_repo": None, f"{prefix}_repo_name": "", f"{prefix}_revision": "", f"{prefix}_commit": ""}
    return {
        f"{prefix}_repo": pinned.repo,
        f"{prefix}_repo_name": pinned.repo.repo_id,
        f"{prefix}_revision": pinned.revision,
        f"{prefix}_commit": pinned.commit,
    }


def _queue(*, user, kind: RunKind, reason: str, **fields: Any) -> Run:
    """Create the run, queued, if the user has room in the queue; the fair queue looks at it
    once the transaction commits."""
    with transaction.atomic():
        _check_queue_room(user)
        run = Run.objects.create(kind=kind, user=user, queued_at=timezone.now(), reason=reason, **fields)
        run_record_submission(run=run, reason=reason)
        runs_dispatch_on_commit()
    return run


# ----------------------------------------------------------------------------- training


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
    files = dataset_data_files(_tree(pinned))
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
    namespace_name, name = _split_repo_id(repo_id, field="output_repo")
    branch = _revision(branch, field="output_branch")
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
    return _queue(
        user=user,
        kind=RunKind.TRAINING,
        reason=f"Submitted by {user.username}.",
        site_url=site_url,
        recipe=recipe,
        params=params,
        config=cfg.to_dict(),
        evaluate_after=suites,
        **_pinned_fields("model", base),
        **_pinned_fields("dataset", data),
        output_repo=output.repo,
        output_repo_name=output.repo_id,
        output_mode=output.mode,
        output_branch=output.branch,
        total_steps=cfg.train.max_steps,
    )


# ----------------------------------------------------------------------------- evaluation


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
    tree = _tree(pinned)
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
    return _queue(
        user=user,
        kind=RunKind.EVALUATION,
        reason=f"Submitted by {user.username}." if parent is None else f"Follows training run {parent.pk}.",
        site_url=site_url,
        parent=parent,
        **_pinned_fields("model", pinned),
        **_pinned_fields("dataset", choice.pinned),
        suite=choice.name,
        suite_file=choice.file,
        suite_hash=choice.hash,
        limit=limit,
    )
