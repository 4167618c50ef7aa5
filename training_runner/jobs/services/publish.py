"""Publishing a finished training run: its output directory becomes one commit of a model
repository (a new one, a branch of an existing one, or a pull request), exactly once.

The files are staged and promoted before the transaction; inside it the run row is locked, a run
that already names its published commit publishes nothing (a resumed attempt after a worker loss
cannot publish twice), and the commit and the run's record of it are written together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from community.services.discussions import pull_request_propose
from hub.models import Namespace
from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.revisions import ref_target
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_create
from registry.storage import stage_file
from training_runner.jobs.choices import OutputMode, RunState
from training_runner.jobs.locks import run_lock
from training_runner.jobs.models import Run

# What the training core leaves in its output directory besides the model.
NOT_PUBLISHED = {"metrics.jsonl", "checkpoints", "data_cache"}


@dataclass(frozen=True)
class Published:
    repo: Repo
    commit: str
    pull_request: int | None


def output_files(directory: Path) -> dict[str, Path]:
    """Repository path → file, for everything the run exported (the model, its tokenizer, its
    card, a LoRA adapter folder), leaving out logs, checkpoints and caches."""
    files = {}
    for path in sorted(Path(directory).rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and relative.parts[0] not in NOT_PUBLISHED:
            files[relative.as_posix()] = path
    return files


def _output_repo(run: Run) -> Repo:
    if run.output_repo is not None:
        return run.output_repo
    namespace_name, name = run.output_repo_name.split("/")
    existing = Repo.objects.filter(
        type=RepoType.MODEL, namespace__name__iexact=namespace_name, name__iexact=name
    ).first()
    if existing is not None:
        return existing
    namespace = Namespace.objects.get(name__iexact=namespace_name)
    return repo_create(user=run.user, namespace=namespace, name=name, repo_type=RepoType.MODEL)


def training_run_publish(*, run_id: int, attempt: int, output_dir: Path) -> Published | None:
    """Commit the run's output as its owner; None when ``attempt`` no longer owns the run.

    Permissions are checked again by the services it calls (the owner may have lost write access
    since submitting), and surface as the run's failure reason.
    """
    files = output_files(output_dir)
    operations = [AddFile(path=path, staged=stage_file(source)) for path, source in files.items()]
    try:
        with transaction.atomic():
            run = run_lock(run_id=run_id)
            if run.attempt != attempt or run.state != RunState.RUNNING:
                return None
            if run.output_commit:
                return Published(repo=run.output_repo, commit=run.output_commit, pull_request=run.output_pull_request)
            repo = _output_repo(run)
            summary = f"Publish {repo.name} from training run {run.pk} ({run.recipe})"
            description = (
                f"Trained by the hub's training core in run {run.pk}: {run.site_url.rstrip('/')}{run.web_path}"
            )
            number = None
            if run.output_mode == OutputMode.PULL_REQUEST:
                discussion = pull_request_propose(
                    repo=repo,
                    user=run.user,
                    branch=run.output_branch,
                    operations=operations,
                    summary=summary,
                    description=description,
                )
                number = discussion.num
                commit = ref_target(repo=repo, ref=discussion.git_reference)
            else:
                ref = f"refs/heads/{run.output_branch or repo.default_branch}"
                start = (
                    None
                    if ref_target(repo=repo, ref=ref)
                    else ref_target(repo=repo, ref=f"refs/heads/{repo.default_branch}")
                )
                commit = commit_create(
                    repo=repo,
                    user=run.user,
                    ref=ref,
                    operations=operations,
                    summary=summary,
                    description=description,
                    create_ref_from=start,
                ).commit.oid
            run.output_repo, run.output_commit, run.output_pull_request = repo, commit, number
            run.save(update_fields=["output_repo", "output_commit", "output_pull_request", "updated_at"])
            return Published(repo=repo, commit=commit, pull_request=number)
    finally:
        for op in operations:
            op.staged.discard()
