"""Reads of conversions to safetensors, and which files a conversion reads."""

from __future__ import annotations

from django.db.models import Subquery

from common.errors import NotFound
from registry.models import Conversion, GitCommit, Ref, Repo
from registry.trees import FileInfo, tree_files

CHECKPOINT_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
# Files of a training folder that are not model weights.
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt")


def conversion_sources(files: list[FileInfo]) -> list[FileInfo]:
    """The checkpoints a conversion reads: pickle-based weight files at the top of the repository."""
    return [
        info
        for info in files
        if "/" not in info.path
        and info.path.lower().endswith(CHECKPOINT_SUFFIXES)
        and info.path not in NOT_WEIGHTS
        and not info.path.startswith("rng_state")
    ]


def conversion_get(*, repo: Repo, conversion_id: int) -> Conversion:
    found = Conversion.objects.filter(repo=repo, pk=conversion_id).first()
    if found is None:
        raise NotFound(f"Conversion {conversion_id} not found in {repo.repo_id}.")
    return found


def conversions_recent(*, repo: Repo, limit: int = 5) -> list[Conversion]:
    return list(Conversion.objects.filter(repo=repo).order_by("-created_at", "-pk")[:limit])


def conversion_offered(*, files: list[FileInfo]) -> bool:
    """Whether a tree has checkpoints to convert and no safetensors weights yet."""
    names = {info.path for info in files}
    return bool(conversion_sources(files)) and not names & {"model.safetensors", "model.safetensors.index.json"}


def default_branch_files(*, repo: Repo) -> list[FileInfo]:
    """The files at the head of the default branch, with one query (trees come from the cache)."""
    head = Ref.objects.filter(repo=repo, name=f"refs/heads/{repo.default_branch}").values("target_oid")[:1]
    tree = GitCommit.objects.filter(repo=repo, oid=Subquery(head)).values_list("tree_oid", flat=True).first()
    return tree_files(tree) if tree else []
