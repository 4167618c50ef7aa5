"""The inputs every run is submitted with, checked and pinned: repositories resolved to a commit
(a private one the caller cannot read is "not found", as everywhere), models the training core
can load (safetensors only), and the queue a run joins — or field errors and nothing queued.
``submit_training`` and ``submit_evaluation`` submit the two kinds of run over these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import ValidationError
from registry.access import access_repo, check_can_read_files
from registry.choices import RepoType
from registry.errors import RevisionNotFound
from registry.models import Repo
from registry.selectors.pages import file_read
from registry.selectors.revisions import revision_resolve
from registry.trees import FileInfo, tree_files, tree_lookup
from training_runner.core.config import DECODER_ARCHS, check_pretrained_arch
from training_runner.core.errors import ConfigError
from training_runner.core.hf_config import config_from_hf  # config.json without PyTorch (web processes)
from training_runner.jobs.choices import RunKind, RunState
from training_runner.jobs.errors import QueueFull
from training_runner.jobs.models import Run
from training_runner.jobs.selectors import user_run_counts
from training_runner.jobs.services.lifecycle import run_record_submission, runs_dispatch_on_commit


@dataclass(frozen=True)
class Pinned:
    """A repository input: the repository, the revision asked for, the commit it resolved to."""

    repo: Repo
    revision: str
    commit: str


def repo_id_split(value: Any, *, field: str) -> tuple[str, str]:
    if not isinstance(value, str) or value.count("/") != 1 or not all(value.split("/")):
        raise ValidationError(f"{field} must be a repository id like 'namespace/name'.", fields={field: ["Invalid."]})
    namespace, name = value.split("/")
    return namespace, name


def revision_value(value: Any, *, field: str) -> str:
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
    namespace, name = repo_id_split(ref, field=field)
    repo = access_repo(user=user, repo_type=repo_type, namespace=namespace, name=name)
    check_can_read_files(user=user, repo=repo)
    asked = revision_value(revision, field=revision_field) or repo.default_branch
    try:
        resolved = revision_resolve(repo=repo, revision=asked)
    except RevisionNotFound as exc:
        raise ValidationError(exc.message, fields={revision_field: [exc.message]}) from None
    return Pinned(repo=repo, revision=asked, commit=resolved.oid)


def pinned_tree(pinned: Pinned) -> str:
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
    tree = pinned_tree(pinned)
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


def check_queue_room(user) -> None:
    queued = user_run_counts(user=user)[RunState.QUEUED]
    limit = settings.HUB_RUN_MAX_QUEUED_PER_USER
    if queued >= limit:
        raise QueueFull(
            f"You have {queued} queued runs, the most one person may have; cancel one or wait until one starts.",
            retry_after=60,
        )


def pinned_fields(prefix: str, pinned: Pinned | None) -> dict[str, Any]:
    """The run columns of one pinned input (``model_*`` or ``dataset_*``); blank when absent."""
    if pinned is None:
        return {f"{prefix}_repo": None, f"{prefix}_repo_name": "", f"{prefix}_revision": "", f"{prefix}_commit": ""}
    return {
        f"{prefix}_repo": pinned.repo,
        f"{prefix}_repo_name": pinned.repo.repo_id,
        f"{prefix}_revision": pinned.revision,
        f"{prefix}_commit": pinned.commit,
    }


def run_queue(*, user, kind: RunKind, reason: str, **fields: Any) -> Run:
    """Create the run, queued, if the user has room in the queue; the fair queue looks at it
    once the transaction commits."""
    with transaction.atomic():
        check_queue_room(user)
        run = Run.objects.create(kind=kind, user=user, queued_at=timezone.now(), reason=reason, **fields)
        run_record_submission(run=run, reason=reason)
        runs_dispatch_on_commit()
    return run
