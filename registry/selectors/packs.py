"""Reading a repository as git objects: refs to advertise, the commit graph, which objects a fetch
needs, and the objects themselves, read in batches for a pack.

Nothing here holds a second copy of the repository: commits are rebuilt from their rows (or read
from ``GitCommit.raw`` for pushed commits), trees from ``GitTree.entries``, regular files from the
blob storage by sha256 and LFS files as the pointer their tree entry describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC

from registry.git.objects import MODE_TREE, Signature, commit_body, lfs_pointer
from registry.models import GitCommit, GitTree, Ref, Repo, blob_storage_key
from registry.storage import blob_storage

# Git's pack type numbers.
COMMIT, TREE, BLOB = 1, 2, 3
# Rows (commits) or trees read per query when writing a pack.
READ_BATCH = 500
# Tree bodies a plan keeps for the pack it describes (bytes): memory stays bounded on huge trees.
TREE_BODY_BUDGET = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CommitNode:
    tree: str
    parents: tuple[str, ...]
    generation: int


@dataclass(frozen=True, slots=True)
class BlobRef:
    """What a tree entry says about a file: enough to produce its git blob without a query."""

    sha256: str
    size: int
    lfs: bool


@dataclass
class PackPlan:
    """The objects a fetch sends, in pack order (commits, trees, blobs)."""

    commits: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)
    blobs: dict[str, BlobRef] = field(default_factory=dict)
    # Bodies of sent trees encoded while planning, up to ``TREE_BODY_BUDGET`` bytes; the rest are
    # read again while the pack is written.
    tree_bodies: dict[str, bytes] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.commits) + len(self.trees) + len(self.blobs)


def refs_advertised(*, repo: Repo) -> dict[str, str]:
    """Every ref of ``repo`` (branches, tags, pull requests), name -> commit id."""
    return dict(Ref.objects.filter(repo=repo).order_by("name").values_list("name", "target_oid"))


def commit_graph_load(*, repo: Repo) -> dict[str, CommitNode]:
    """The whole commit graph of ``repo`` in one query (ids, trees and parents, not messages)."""
    rows = GitCommit.objects.filter(repo=repo).values_list("oid", "tree_oid", "parents", "generation")
    return {oid: CommitNode(tree=tree, parents=tuple(parents), generation=gen) for oid, tree, parents, gen in rows}


def commit_raw(commit: GitCommit) -> bytes:
    """The body of ``commit`` exactly as git hashed it."""
    if commit.raw is not None:
        return bytes(commit.raw)
    # The hub signs its own commits as author and committer alike, in UTC (services.commits).
    signature = Signature(name=commit.author_name, email=commit.author_email, when=commit.authored_at.astimezone(UTC))
    return commit_body(
        tree=commit.tree_oid, parents=commit.parents, author=signature, committer=signature, message=commit.message
    )


def commits_raw(*, repo: Repo, oids: Iterable[str]) -> dict[str, bytes]:
    """Bodies of the commits ``oids`` (one query; the hub's own commits are rebuilt from two more
    columns' worth of fields)."""
    rows = GitCommit.objects.filter(repo=repo, oid__in=list(oids)).values_list("oid", "raw")
    bodies = {oid: bytes(raw) for oid, raw in rows if raw is not None}
    rebuilt = [oid for oid in oids if oid not in bodies]
    if rebuilt:
        own = GitCommit.objects.filter(repo=repo, oid__in=rebuilt).only(
            "oid", "tree_oid", "parents", "message", "author_name", "author_email", "authored_at", "raw"
        )
        bodies.update({row.oid: commit_raw(row) for row in own})
    return bodies


def ancestors(graph: dict[str, CommitNode], heads: Iterable[str], *, cut: set[str] = frozenset()) -> set[str]:
    """Commits reachable from ``heads`` in ``graph``; commits in ``cut`` count as having no parents
    (a shallow clone's boundary)."""
    seen: set[str] = set()
    stack = [head for head in heads if head in graph]
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        if oid not in cut:
            stack.extend(parent for parent in graph[oid].parents if parent not in seen)
    return seen


def _entry_map(entries: list) -> dict[str, list]:
    return {entry[1]: entry for entry in entries}


def _load_trees(oids: Iterable[str]) -> dict[str, list]:
    """Entries of many trees, ``READ_BATCH`` per query, straight from the database: a fetch reads
    each tree once, so filling the shared tree cache with them would only cost time."""
    pending = list(oids)
    loaded: dict[str, list] = {}
    for start in range(0, len(pending), READ_BATCH):
        batch = pending[start : start + READ_BATCH]
        loaded.update(GitTree.objects.filter(oid__in=batch).values_list("oid", "entries"))
    absent = set(pending) - loaded.keys()
    if absent:
        raise LookupError(f"git trees missing from the database: {sorted(absent)[:5]}")
    return loaded


def pack_plan(
    *,
    graph: dict[str, CommitNode],
    wants: Iterable[str],
    haves: Iterable[str],
    client_shallow: set[str] = frozenset(),
    new_shallow: set[str] = frozenset(),
    unshallow: set[str] = frozenset(),
) -> PackPlan:
    """The objects a client that has ``haves`` needs for ``wants``.

    Commits: those reachable from the wants and not from the haves, stopping at the shallow
    boundary (``new_shallow`` and the client's own shallow commits, less those it deepens past).
    Trees and blobs: each sent commit's tree compared with its parents' trees, path by path, level by
    level over all commits at once (one query a level): what a parent already has at the same path
    is either sent with that parent or held by the client. A boundary commit is compared with
    nothing, so its whole tree goes.
    """
    have_closure = ancestors(graph, haves, cut=client_shallow)
    boundary = (set(client_shallow) - set(unshallow)) | set(new_shallow)
    plan = PackPlan()
    visited: set[str] = set()
    stack = [want for want in wants if want in graph]
    sent: list[str] = []
    while stack:
        oid = stack.pop()
        if oid in visited:
            continue
        visited.add(oid)
        if oid not in have_closure:
            sent.append(oid)
        elif not unshallow:
            continue  # the client has it and everything below it
        # Deepening: walk on through what the client has, down to the commits it deepens past.
        if oid not in boundary:
            stack.extend(parent for parent in graph[oid].parents if parent not in visited)
    sent.sort(key=lambda oid: -graph[oid].generation)
    plan.commits = sent

    # A client that has nothing (a clone) needs every object: no parent trees to compare with.
    compare = bool(have_closure)
    frontier: list[tuple[str, list[str]]] = []
    for oid in sent:
        parents = [graph[p].tree for p in graph[oid].parents if p in graph] if compare and oid not in boundary else []
        frontier.append((graph[oid].tree, parents))
    sent_trees: set[str] = set()
    kept = 0
    while frontier:
        level = []
        for new, olds in frontier:
            if new in sent_trees or new in olds:
                continue
            sent_trees.add(new)
            plan.trees.append(new)
            level.append((new, olds))
        trees = _load_trees({new for new, _ in level} | {old for _, olds in level for old in olds})
        old_maps = {old: _entry_map(trees[old]) for _, olds in level for old in olds}
        frontier = []
        for new, olds in level:
            if kept < TREE_BODY_BUDGET:
                body = tree_object(trees[new])
                plan.tree_bodies[new] = body
                kept += len(body)
            for entry in trees[new]:
                oid = entry[2]
                if olds:
                    previous = [old_maps[old][entry[1]] for old in olds if entry[1] in old_maps[old]]
                    if any(item[2] == oid for item in previous):
                        continue
                    children = [item[2] for item in previous if item[0] == MODE_TREE]
                else:
                    children = []
                if entry[0] == MODE_TREE:
                    if oid not in sent_trees:
                        frontier.append((oid, children))
                elif oid not in plan.blobs:
                    plan.blobs[oid] = BlobRef(sha256=entry[4], size=entry[3], lfs=entry[5])
    return plan


def tree_object(entries: list) -> bytes:
    """The body of a stored tree (its entries are kept in git's order)."""
    return b"".join(f"{entry[0]} {entry[1]}".encode() + b"\0" + bytes.fromhex(entry[2]) for entry in entries)


def blob_content(blob: BlobRef) -> bytes:
    """The git blob of a file: its pointer for LFS files, else its bytes (regular files are below the
    LFS threshold, so one is read whole)."""
    if blob.lfs:
        return lfs_pointer(sha256=blob.sha256, size=blob.size)
    with blob_storage().open(blob_storage_key(blob.sha256), "rb") as handle:
        return handle.read()


def pack_objects(*, repo: Repo, plan: PackPlan) -> Iterator[tuple[int, str, bytes]]:
    """``(type, oid, body)`` of every object of ``plan``, commits and trees read ``READ_BATCH`` per
    query, blobs straight from storage by sha256 (no query)."""
    for start in range(0, len(plan.commits), READ_BATCH):
        batch = plan.commits[start : start + READ_BATCH]
        bodies = commits_raw(repo=repo, oids=batch)
        for oid in batch:
            yield COMMIT, oid, bodies[oid]
    for start in range(0, len(plan.trees), READ_BATCH):
        batch = plan.trees[start : start + READ_BATCH]
        trees = _load_trees(oid for oid in batch if oid not in plan.tree_bodies)
        for oid in batch:
            body = plan.tree_bodies.pop(oid, None)
            yield TREE, oid, body if body is not None else tree_object(trees[oid])
    for oid, blob in plan.blobs.items():
        yield BLOB, oid, blob_content(blob)
