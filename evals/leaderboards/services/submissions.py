"""Submissions: who may submit, admission checks, queueing the evaluation, following its run.

A submission names ``model@revision``; the revision is pinned to its commit at once. Before a
run is queued it must pass the board's admission checks — a card with a license, safetensors
weights and no pickle files, a tokenizer that loads, a size within the board's limit, not a
duplicate of an entry already on the board — each refusal recorded as a ``rejected`` entry with
its reason, so the queue shows it. Per-user and per-organization daily limits keep one submitter
from filling the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath

from django.db import transaction
from django.utils import timezone

from common.errors import Conflict, HubError, PermissionDenied, RateLimited, Unprocessable
from evals.leaderboards.choices import EntrySource, EntryState, SubmissionPolicy
from evals.leaderboards.models import Entry, Leaderboard
from hub.choices import NamespaceKind
from hub.models import Membership
from hub.permissions import OrgAction, role_allows
from registry.access import Permission, access_repo
from registry.choices import RepoType
from registry.selectors.pages import file_read
from registry.selectors.safetensors import safetensors_parameter_total
from registry.snapshots import PICKLE_WEIGHT_SUFFIXES
from registry.trees import FileInfo, tree_files
from training_runner.jobs.choices import RunState
from training_runner.jobs.models import Run
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit
from training_runner.jobs.services.submit_inputs import Pinned, check_loadable_model, pin_repo

# An entry that still stands for its model on the board (a new submission of it is a duplicate).
LIVE_STATES = (EntryState.QUEUED, EntryState.RUNNING, EntryState.FINISHED)
RUN_TO_ENTRY = {
    RunState.QUEUED: EntryState.QUEUED,
    RunState.RUNNING: EntryState.RUNNING,
    RunState.SUCCEEDED: EntryState.FINISHED,
    RunState.FAILED: EntryState.FAILED,
    RunState.CANCELLED: EntryState.FAILED,
}


class AdmissionRefused(Unprocessable):
    code = "admission_refused"


def check_can_submit(*, user, board: Leaderboard) -> None:
    """The board's policy: anyone, members of its organization, or its owners only."""
    if board.policy == SubmissionPolicy.ANYONE or user.is_staff:
        return
    namespace = board.namespace
    if namespace.kind == NamespaceKind.USER:
        allowed = namespace.user_id == user.pk
    else:
        role = Membership.objects.filter(organization__namespace=namespace, user=user).values_list("role", flat=True)
        needed = OrgAction.READ_PRIVATE_REPOS if board.policy == SubmissionPolicy.MEMBERS else OrgAction.MANAGE_REPO
        allowed = role_allows(role.first(), needed)
    if not allowed:
        who = "members of" if board.policy == SubmissionPolicy.MEMBERS else "the owners of"
        raise PermissionDenied(f"Only {who} {namespace.name} may submit to {board.board_id}.")


def _check_daily_limits(*, user, board: Leaderboard, pinned: Pinned) -> None:
    since = timezone.now() - timedelta(days=1)
    recent = Entry.objects.filter(board=board, created_at__gte=since).exclude(source=EntrySource.RERUN)
    limit = board.submissions_per_day
    if recent.filter(submitter=user).count() >= limit:
        raise RateLimited(
            f"You submitted {limit} models to {board.board_id} in the last 24 hours, the most a "
            "person may; try again later.",
            retry_after=3600,
        )
    owner = pinned.repo.namespace
    if owner.kind == NamespaceKind.ORGANIZATION and recent.filter(model_repo__namespace=owner).count() >= limit:
        raise RateLimited(
            f"{owner.name} had {limit} models submitted to {board.board_id} in the last 24 hours, the "
            "most one organization may; try again later.",
            retry_after=3600,
        )


def admission_problems(*, board: Leaderboard, pinned: Pinned) -> list[str]:
    """Why ``pinned`` may not enter ``board`` (empty when it may), each a sentence."""
    from tokenizers import Tokenizer

    from registry.cards import card_parse

    problems = []
    commit = pinned.repo.commits.get(oid=pinned.commit)
    files = {info.path: info for info in tree_files(commit.tree_oid)}
    readme = files.get("README.md")
    card = (
        card_parse(file_read(file=readme, limit=5 << 20).decode("utf-8", "replace"), repo_type="model")
        if readme
        else None
    )
    if card is None:
        problems.append("The model has no card (README.md).")
    elif not card.license:
        problems.append("The model card does not declare a license.")
    pickled = sorted(p for p in files if PurePosixPath(p).name.lower().endswith(PICKLE_WEIGHT_SUFFIXES))
    if pickled:
        problems.append(f"Pickle-based files are not accepted: {', '.join(pickled[:5])}.")
    try:
        check_loadable_model(pinned=pinned, field="model", decoder=True, tokenizer=False)
    except HubError as exc:
        problems.append(exc.message)
    tokenizer = files.get("tokenizer.json")
    if tokenizer is None:
        problems.append("The model has no tokenizer.json.")
    else:
        try:
            Tokenizer.from_str(file_read(file=tokenizer, limit=64 << 20).decode("utf-8"))
        except Exception as exc:  # the tokenizers library raises plain Exceptions for bad files
            problems.append(f"tokenizer.json does not load: {str(exc)[:200]}")
    weights: list[FileInfo] = [info for path, info in files.items() if path.endswith(".safetensors")]
    parameters = safetensors_parameter_total(files=weights)
    if board.max_parameters is not None and parameters is not None and parameters > board.max_parameters:
        problems.append(
            f"The model has {parameters:,} parameters; {board.board_id} takes at most {board.max_parameters:,}."
        )
    return problems


@dataclass(frozen=True)
class Submission:
    entry: Entry
    admitted: bool


def _duplicate(*, board: Leaderboard, pinned: Pinned, pull_request: int | None) -> Entry | None:
    # Commit ids alone do not tell repositories apart: two with the same files and history share them.
    return (
        Entry.objects.filter(
            board=board,
            model_repo=pinned.repo,
            model_commit=pinned.commit,
            pull_request=pull_request,
            state__in=LIVE_STATES,
        )
        .exclude(source=EntrySource.RERUN)
        .first()
    )


def entry_submit(
    *,
    board: Leaderboard,
    user,
    model: str,
    revision: str | None = None,
    source: EntrySource = EntrySource.SUBMITTED,
    pull_request: int | None = None,
    site_url: str = "",
) -> Submission:
    """Submit ``model`` at ``revision`` to ``board``. A person's own submission needs write access
    to the model (it is theirs to enter); submissions the hub makes for them (a card that enrols
    the model, a new commit on its default branch, a pull request) do not. Raises for what is not
    a submission at all (no access, over the daily limit, a duplicate); records refused admissions
    as rejected entries (``admitted`` False)."""
    need = Permission.WRITE if source == EntrySource.SUBMITTED else Permission.READ
    if source == EntrySource.SUBMITTED:
        check_can_submit(user=user, board=board)
        namespace, _, name = str(model).partition("/")
        access_repo(user=user, repo_type=RepoType.MODEL, namespace=namespace, name=name, need=need)
    pinned = pin_repo(
        user=user, repo_type=RepoType.MODEL, ref=model, revision=revision, field="model", revision_field="revision"
    )
    existing = _duplicate(board=board, pinned=pinned, pull_request=pull_request)
    if existing is not None:
        raise Conflict(
            f"{pinned.repo.repo_id}@{pinned.commit[:12]} is already on {board.board_id} (entry {existing.pk})."
        )
    if source == EntrySource.SUBMITTED:
        _check_daily_limits(user=user, board=board, pinned=pinned)
    fields = {
        "board": board,
        "model_repo": pinned.repo,
        "model_repo_name": pinned.repo.repo_id,
        "model_revision": pinned.revision,
        "model_commit": pinned.commit,
        "submitter": user,
        "source": source,
        "pull_request": pull_request,
    }
    problems = admission_problems(board=board, pinned=pinned)
    if problems:
        entry = Entry.objects.create(**fields, state=EntryState.REJECTED, reason=" ".join(problems))
        return Submission(entry, admitted=False)
    with transaction.atomic():
        run = evaluation_run_submit(
            user=user,
            model=pinned.repo.repo_id,
            revision=pinned.commit,
            suite=board.suite,
            suite_revision=board.suite_commit or None,
            suite_file=board.suite_file or None,
            limit=board.limit,
            site_url=site_url,
        )
        if run.suite_hash != board.suite_hash:
            raise Conflict(
                f"The suite of {board.board_id} has changed since the board was made (its content hash is "
                f"now {run.suite_hash[:12]}); the board cannot take new entries."
            )
        entry = Entry.objects.create(**fields, state=EntryState.QUEUED, run=run, reason="Queued for evaluation.")
    return Submission(entry, admitted=True)


def entry_submit_or_refuse(**kwargs) -> Entry:
    """``entry_submit`` for the faces a person uses: a refused admission is a 422 naming the
    reasons (the rejected entry stays on the board's queue)."""
    submission = entry_submit(**kwargs)
    if not submission.admitted:
        raise AdmissionRefused(f"Not admitted: {submission.entry.reason}", fields={"model": [submission.entry.reason]})
    return submission.entry


def entries_follow_run(*, run_id: int, state: str) -> list[int]:
    """Mirror a run's new state onto the entries it evaluates; the ids that just finished."""
    now = timezone.now()
    run = Run.objects.filter(pk=run_id).only("state", "reason").first()
    if run is None:
        return []
    target = RUN_TO_ENTRY[RunState(state)]
    finished = []
    for entry in Entry.objects.filter(run_id=run_id).exclude(state__in=(EntryState.FINISHED, EntryState.FAILED)):
        entry.state = target
        if target == EntryState.RUNNING and entry.started_at is None:
            entry.started_at = now
        if target in (EntryState.FINISHED, EntryState.FAILED):
            entry.finished_at = now
            entry.reason = run.reason if target == EntryState.FAILED else "Evaluated."
            finished.append(entry.pk)
        entry.save(update_fields=["state", "started_at", "finished_at", "reason"])
    return finished
