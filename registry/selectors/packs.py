"""Reading a repository as git objects: refs to advertise, the commit graph, which objects a fetch
needs, and the objects themselves, read in batches for a pack.

Nothing here holds a second copy of the repository: commits are rebuilt from their rows (or read
from ``GitCommit.raw`` for pushed commits), trees from ``GitTree.entries``, regular files from the
blob storage by sha256 and LFS files as the pointer their tree entry describes. Two columns written
with each row spare a fetch most of its work: ``pack_entry`` (a tree's or commit's compressed pack
form, copied into the pack as it is) and ``GitCommit.new_objects`` (what the commit adds to its
parents, so which trees and files a fetch sends is a union of lists, not a walk of every tree).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC

from registry.git.objects import MODE_TREE, Signature, commit_body, lfs_pointer
from registry.git.packs import BLOB, COMMIT, TREE, pack_entry
from registry.models import GitCommit, GitTree, Ref, Repo, blob_storage_key
from registry.storage import blob_storage

# Rows (commits) or trees read per query when writing a pack, and commits whose new objects are
# computed together when a fetch finds them missing.
READ_BATCH = 500


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
    # ``GitCommit.new_objects`` computed while planning for sent commits that had none (rows older
    # than the column), for the caller to store.
    computed: dict[str, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.commits) + len(self.trees) + len(self.blobs)


@dataclass
class NewObjects:
    """What a commit's tree holds at paths where none of its parents' trees holds the same object
    (the whole tree for a commit compared with nothing): trees and files, each listed once.

    Every object reachable from a set of commits closed under "parent of" is in the union of their
    lists: one the list of commit C leaves out sits at the same path in a parent of C."""

    trees: list[str] = field(default_factory=list)
    blobs: dict[str, BlobRef] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The form ``GitCommit.new_objects`` stores."""
        return {
            "trees": self.trees,
            "blobs": [[oid, blob.sha256, blob.size, blob.lfs] for oid, blob in self.blobs.items()],
        }


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


def new_objects_compute(
    items: dict[str, tuple[str, list[str]]],
    *,
    load: Callable[[Iterable[str]], dict[str, list]] | None = None,
    known: dict[str, list] | None = None,
) -> dict[str, NewObjects]:
    """For each key (a commit id), ``(tree, parent trees)`` -> its :class:`NewObjects`: the tree is
    compared with the parents' trees path by path, level by level over all keys at once (one
    ``load`` a level, the database by default, for trees not in ``known``: entries the caller
    holds already)."""
    read = load or _load_trees
    if known:

        def load(oids: Iterable[str]) -> dict[str, list]:
            wanted = set(oids)
            held = {oid: known[oid] for oid in wanted if oid in known}
            return held | (read(wanted - held.keys()) if len(held) < len(wanted) else {})

    else:
        load = read
    found = {key: NewObjects() for key in items}
    listed: dict[str, set[str]] = {key: set() for key in items}
    frontier = [(key, tree, olds) for key, (tree, olds) in items.items()]
    while frontier:
        level = []
        for key, new, olds in frontier:
            if new in olds or new in listed[key]:
                continue
            listed[key].add(new)
            found[key].trees.append(new)
            level.append((key, new, olds))
        trees = load({new for _, new, _ in level} | {old for _, _, olds in level for old in olds})
        maps: dict[str, dict[str, list]] = {}
        frontier = []
        for key, new, olds in level:
            old_maps = [maps[old] if old in maps else maps.setdefault(old, _entry_map(trees[old])) for old in olds]
            blobs = found[key].blobs
            for entry in trees[new]:
                oid = entry[2]
                children = []
                if old_maps:
                    previous = [old_map[entry[1]] for old_map in old_maps if entry[1] in old_map]
                    if any(item[2] == oid for item in previous):
                        continue
                    children = [item[2] for item in previous if item[0] == MODE_TREE]
                if entry[0] == MODE_TREE:
                    frontier.append((key, oid, children))
                elif oid not in blobs:
                    blobs[oid] = BlobRef(sha256=entry[4], size=entry[3], lfs=entry[5])
    return found


def pack_plan(
    *,
    repo: Repo,
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
    Trees and blobs: the union of the sent commits' :class:`NewObjects` — each parent of a sent
    commit is sent too or held by the client, so what a commit shares with its parents arrives
    with them. A boundary commit is compared with nothing, so its whole tree goes. Lists are read
    from ``GitCommit.new_objects`` ``READ_BATCH`` commits per query; those missing are computed
    (and handed back in ``plan.computed``).
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

    trees: dict[str, None] = {}
    blobs = plan.blobs

    def add(listing: dict) -> None:
        trees.update(dict.fromkeys(listing["trees"]))
        for oid, sha256, size, lfs in listing["blobs"]:
            if oid not in blobs:
                blobs[oid] = BlobRef(sha256=sha256, size=size, lfs=lfs)

    whole = [oid for oid in sent if oid in boundary]
    for start in range(0, len(whole), READ_BATCH):
        for found in new_objects_compute(
            {oid: (graph[oid].tree, []) for oid in whole[start : start + READ_BATCH]}
        ).values():
            add(found.to_json())
    compared = [oid for oid in sent if oid not in boundary]
    for start in range(0, len(compared), READ_BATCH):
        batch = compared[start : start + READ_BATCH]
        stored = dict(GitCommit.objects.filter(repo=repo, oid__in=batch).values_list("oid", "new_objects"))
        missing = {
            oid: (graph[oid].tree, [graph[parent].tree for parent in graph[oid].parents if parent in graph])
            for oid in batch
            if stored.get(oid) is None
        }
        for oid, found in new_objects_compute(missing).items():
            stored[oid] = plan.computed[oid] = found.to_json()
        for oid in batch:
            add(stored[oid])
    plan.trees = list(trees)
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


def tree_pack_entry(entries: list) -> bytes:
    """The pack entry of a stored tree (what ``GitTree.pack_entry`` holds)."""
    return pack_entry(TREE, tree_object(entries))


def pack_entries(*, repo: Repo, plan: PackPlan) -> Iterator[bytes]:
    """Every object of ``plan`` as a pack holds it (``registry.git.packs.pack_entry``): commits and
    trees copied from their ``pack_entry`` column ``READ_BATCH`` per query (encoded and compressed
    here for rows without one), files read from storage by sha256 (no query) and compressed."""
    for start in range(0, len(plan.commits), READ_BATCH):
        batch = plan.commits[start : start + READ_BATCH]
        stored = dict(GitCommit.objects.filter(repo=repo, oid__in=batch).values_list("oid", "pack_entry"))
        missing = [oid for oid in batch if stored.get(oid) is None]
        if missing:
            stored.update((oid, pack_entry(COMMIT, body)) for oid, body in commits_raw(repo=repo, oids=missing).items())
        for oid in batch:
            yield stored[oid]
    for start in range(0, len(plan.trees), READ_BATCH):
        batch = plan.trees[start : start + READ_BATCH]
        stored = dict(GitTree.objects.filter(oid__in=batch).values_list("oid", "pack_entry"))
        missing = [oid for oid in batch if stored.get(oid) is None]
        if missing:
            stored.update((oid, tree_pack_entry(entries)) for oid, entries in _load_trees(missing).items())
        for oid in batch:
            yield stored[oid]
    for blob in plan.blobs.values():
        yield pack_entry(BLOB, blob_content(blob))
