"""The LFS objects a repository's history references (the HF client's ``list_lfs_files``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.git.objects import MODE_TREE
from registry.models import GitCommit, Ref, Repo, RepoBlob
from registry.trees import trees_load


@dataclass(frozen=True)
class LfsFile:
    sha256: str
    path: str  # one path the object is stored under (an object may have several)
    size: int
    pointer_oid: str  # the git id of its pointer file, as trees show it
    ref: str | None  # the first ref whose history holds it: the default branch, other branches, then the rest
    pushed_at: datetime | None


def _ref_order(repo: Repo, name: str) -> tuple:
    return (name != f"refs/heads/{repo.default_branch}", not name.startswith("refs/heads/"), name)


def _walk_trees(roots: list[str], seen: set[str], found: dict, ref: str | None) -> None:
    """Record the LFS files of the trees ``roots`` not walked before, level by level."""
    pending = [(oid, "") for oid in roots if oid not in seen]
    seen.update(oid for oid, _ in pending)
    while pending:
        loaded = trees_load({oid for oid, _ in pending})
        deeper = []
        for oid, prefix in pending:
            for entry in loaded[oid]:
                if entry[0] == MODE_TREE:
                    if entry[2] not in seen:
                        seen.add(entry[2])
                        deeper.append((entry[2], f"{prefix}{entry[1]}/"))
                elif entry[5] and entry[4] not in found:
                    found[entry[4]] = (f"{prefix}{entry[1]}", entry[3], entry[2], ref)
        pending = deeper


def lfs_files_list(*, repo: Repo) -> list[LfsFile]:
    """Every LFS object some commit of ``repo`` references, newest upload first; each with the ref
    that reaches it first (commits no ref reaches come last, with none)."""
    commits = {c.oid: c for c in GitCommit.objects.filter(repo=repo).only("oid", "tree_oid", "parents")}
    refs = sorted(Ref.objects.filter(repo=repo).values_list("name", "target_oid"), key=lambda r: _ref_order(repo, r[0]))
    found: dict[str, tuple] = {}
    seen_commits: set[str] = set()
    seen_trees: set[str] = set()
    for name, target in [*refs, *((None, oid) for oid in commits)]:
        stack, trees = [target], []
        while stack:
            oid = stack.pop()
            if oid in seen_commits or oid not in commits:
                continue
            seen_commits.add(oid)
            trees.append(commits[oid].tree_oid)
            stack.extend(commits[oid].parents)
        _walk_trees(trees, seen_trees, found, name)
    pushed = dict(
        RepoBlob.objects.filter(repo=repo, blob__sha256__in=list(found)).values_list("blob__sha256", "created_at")
    )
    files = [
        LfsFile(sha256=sha, path=path, size=size, pointer_oid=pointer, ref=ref, pushed_at=pushed.get(sha))
        for sha, (path, size, pointer, ref) in found.items()
    ]
    files.sort(key=lambda f: (f.pushed_at is not None, f.pushed_at, f.path), reverse=True)
    return files
