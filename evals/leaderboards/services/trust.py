"""Trust in an entry: contamination by n-gram overlap with its declared training data, community
flags discussed in public, reproduction by a re-run, and the delta a pull request would make.

Contamination: the model card's ``datasets`` that live on this hub are read at their default
branch; every run of ``NGRAM`` words in them is hashed; an evaluation item is contaminated when
any ``NGRAM``-word run of its prompt, alone or followed by one of its answer choices, is among
them. The rate is the share
of contaminated items (0 when the card declares no dataset hosted here: then nothing was checked,
and the entry says so).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.db import transaction

from common.errors import PermissionDenied, ValidationError
from community.services.discussions import discussion_create
from evals.leaderboards.choices import EntrySource, EntryState
from evals.leaderboards.models import Entry, Flag
from evals.leaderboards.services.boards import board_touch
from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.pages import file_read
from registry.selectors.revisions import revision_resolve
from training_runner.jobs.models import EvalSample
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit
from training_runner.jobs.services.submit_training import dataset_data_files

NGRAM = 8
MAX_DATASET_BYTES = 64 * 1024 * 1024  # of text read per dataset
WORD = re.compile(r"\w+", re.UNICODE)


def _ngrams(text: str) -> set[bytes]:
    words = WORD.findall(text.lower())
    return {
        hashlib.blake2b(" ".join(words[i : i + NGRAM]).encode(), digest_size=8).digest()
        for i in range(len(words) - NGRAM + 1)
    }


def _texts(record: Any) -> list[str]:
    """Every string in a JSON record (a dataset row's fields, whatever their names)."""
    if isinstance(record, str):
        return [record]
    if isinstance(record, dict):
        return [t for value in record.values() for t in _texts(value)]
    if isinstance(record, list):
        return [t for value in record for t in _texts(value)]
    return []


def _dataset_ngrams(repo: Repo) -> tuple[set[bytes], str]:
    commit = revision_resolve(repo=repo, revision=None).commit
    grams: set[bytes] = set()
    budget = MAX_DATASET_BYTES
    for info in dataset_data_files(commit.tree_oid):
        if budget <= 0 or info.path.endswith(".parquet"):
            continue
        data = file_read(file=info, limit=budget)
        budget -= len(data)
        text = data.decode("utf-8", "replace")
        if info.path.endswith(".jsonl"):
            for line in text.splitlines():
                try:
                    grams |= set().union(*(_ngrams(t) for t in _texts(json.loads(line)))) if line.strip() else set()
                except json.JSONDecodeError:
                    continue
        else:
            grams |= _ngrams(text)
    return grams, commit.oid


def entry_contamination(*, entry_id: int) -> dict[str, Any] | None:
    """Check a finished entry's items against the datasets its model card declares (see module)."""
    entry = Entry.objects.select_related("model_repo").filter(pk=entry_id, state=EntryState.FINISHED).first()
    if entry is None or entry.model_repo is None:
        return None
    declared = (entry.model_repo.card_data or {}).get("datasets") or []
    declared = [declared] if isinstance(declared, str) else list(declared)
    checked, grams = [], set()
    for name in declared[:20]:
        namespace, _, dataset = str(name).partition("/")
        repo = (
            Repo.objects.visible_to(None)
            .filter(type=RepoType.DATASET, namespace__name__iexact=namespace, name__iexact=dataset)
            .first()
        )
        if repo is not None:
            found, commit = _dataset_ngrams(repo)
            grams |= found
            checked.append({"repo": repo.repo_id, "commit": commit})
    total = contaminated = 0
    for record in EvalSample.objects.filter(run_id=entry.run_id).values_list("record", flat=True).iterator():
        total += 1
        # The question, and the question with each answer it offers (a leaked item often carries its answer).
        prompt = record.get("prompt") or ""
        parts = [prompt] + [prompt + r.get("continuation", "") for r in record.get("requests", [])]
        if grams and any(_ngrams(part) & grams for part in parts):
            contaminated += 1
    result = {
        "n": NGRAM,
        "datasets": checked,
        "items": contaminated,
        "total": total,
        "rate": contaminated / total if total else 0.0,
    }
    with transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(contamination=result)
        board_touch(board_id=entry.board_id)
    return result


def entry_flag(*, entry: Entry, user, reason: str) -> Flag:
    """Flag an entry: a public discussion opens on the model's repository, and the entry is
    marked (the board can hide flagged entries)."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in to flag an entry.")
    reason = (reason or "").strip()
    if not 10 <= len(reason) <= 5000:
        raise ValidationError("Say why in 10 to 5000 characters.", fields={"reason": ["10 to 5000 characters."]})
    if entry.model_repo is None:
        raise ValidationError("The model of this entry no longer exists.")
    if Flag.objects.filter(entry=entry, user=user).exists():
        raise ValidationError("You have already flagged this entry.", fields={"reason": ["Already flagged."]})
    with transaction.atomic():
        discussion = discussion_create(
            repo=entry.model_repo,
            user=user,
            title=f"Leaderboard flag on {entry.board.board_id}"[:200],
            description=f"Entry {entry.pk} ({entry.model_repo_name}@{entry.model_commit[:12]}) on "
            f"{entry.board.board_id}:\n\n{reason}",
            pull_request=False,
        )
        flag = Flag.objects.create(entry=entry, user=user, reason=reason, discussion_num=discussion.num)
        Entry.objects.filter(pk=entry.pk).update(flagged=True)
        board_touch(board_id=entry.board_id)
    return flag


def entry_rerun(*, entry: Entry, user, site_url: str = "") -> Entry:
    """Evaluate an entry again on the same pinned inputs (board owners and staff); when the new
    run finishes, ``entry_compare_rerun`` marks the original reproduced or not."""
    from evals.leaderboards.services.boards import check_can_manage_boards

    check_can_manage_boards(user=user, namespace=entry.board.namespace)
    if entry.state != EntryState.FINISHED:
        raise ValidationError("Only finished entries can be re-run.")
    board = entry.board
    # One transaction: the run is sent to a worker only once the entry that follows it exists.
    with transaction.atomic():
        run = evaluation_run_submit(
            user=user,
            model=entry.model_repo_name,
            revision=entry.model_commit,
            suite=board.suite,
            suite_revision=board.suite_commit or None,
            suite_file=board.suite_file or None,
            limit=board.limit,
            site_url=site_url,
        )
        return Entry.objects.create(
            board=board,
            model_repo=entry.model_repo,
            model_repo_name=entry.model_repo_name,
            model_revision=entry.model_commit,
            model_commit=entry.model_commit,
            submitter=user,
            source=EntrySource.RERUN,
            state=EntryState.QUEUED,
            run=run,
            rerun_of=entry,
            reason=f"Re-run of entry {entry.pk}.",
        )


def _responses(run_id: int) -> dict[tuple[str, str], Any]:
    rows = EvalSample.objects.filter(run_id=run_id).values_list("task", "item_id", "record")
    return {(task, item): record["responses"] for task, item, record in rows}


def entry_compare_rerun(*, entry_id: int) -> bool | None:
    """Reproduced when the re-run scored every item exactly as the original did."""
    rerun = Entry.objects.filter(pk=entry_id, state=EntryState.FINISHED).exclude(rerun_of=None).first()
    if rerun is None:
        return None
    original = rerun.rerun_of
    same = _responses(original.run_id) == _responses(rerun.run_id)
    with transaction.atomic():
        Entry.objects.filter(pk=original.pk).update(reproduced=same)
        Entry.objects.filter(pk=rerun.pk).update(reason="Reproduced every item." if same else "Items differ.")
        board_touch(board_id=original.board_id)
    return same
