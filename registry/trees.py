"""Git trees in the database: loading, walking and editing them.

Tree objects are immutable and content-addressed, so they are cached by id across requests.
An edit (a commit's operations) loads only the trees on the paths it touches, and writes only
the trees it changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache

from registry.errors import EntryNotFound
from registry.git.objects import (
    EMPTY_TREE_OID,
    MODE_FILE,
    MODE_TREE,
    TreeEntry,
    lfs_pointer,
    object_id,
    sorted_entries,
    tree_body,
)
from registry.git.packs import TREE, pack_entry
from registry.git.paths import InvalidPath
from registry.models import GitTree

CACHE_PREFIX = "gittree:"
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file as the tree records it. ``oid`` is its git object id (the pointer's for LFS files)."""

    path: str
    oid: str
    size: int
    sha256: str
    lfs: bool
    mode: str = MODE_FILE

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(sha256=self.sha256, size=self.size))


@dataclass(frozen=True, slots=True)
class FolderInfo:
    path: str
    oid: str


def trees_load(oids: Iterable[str]) -> dict[str, list]:
    """Entries of the trees ``oids`` (cache first, then one query for the rest)."""
    wanted = set(oids)
    if not wanted:
        return {}
    found = cache.get_many([CACHE_PREFIX + oid for oid in wanted])
    result = {key[len(CACHE_PREFIX) :]: value for key, value in found.items()}
    missing = wanted - result.keys()
    if missing:
        rows = dict(GitTree.objects.filter(oid__in=missing).values_list("oid", "entries"))
        cache.set_many({CACHE_PREFIX + oid: entries for oid, entries in rows.items()}, CACHE_SECONDS)
        result.update(rows)
    absent = wanted - result.keys()
    if absent:
        raise LookupError(f"git trees missing from the database: {sorted(absent)}")
    return result


def _entry_info(parent: str, entry: list) -> FileInfo | FolderInfo:
    path = f"{parent}/{entry[1]}" if parent else entry[1]
    if entry[0] == MODE_TREE:
        return FolderInfo(path=path, oid=entry[2])
    return FileInfo(path=path, oid=entry[2], size=entry[3], sha256=entry[4], lfs=entry[5], mode=entry[0])


def tree_lookup(root_oid: str, path: str) -> FileInfo | FolderInfo | None:
    """The file or folder at ``path`` in the tree ``root_oid`` (``""`` is the root folder)."""
    if path == "":
        return FolderInfo(path="", oid=root_oid)
    segments = path.split("/")
    current = root_oid
    for depth, segment in enumerate(segments):
        entries = trees_load([current])[current]
        entry = next((e for e in entries if e[1] == segment), None)
        if entry is None:
            return None
        parent = "/".join(segments[:depth])
        info = _entry_info(parent, entry)
        if depth == len(segments) - 1:
            return info
        if isinstance(info, FileInfo):
            return None
        current = info.oid
    return None


def tree_list(root_oid: str, path: str = "", *, recursive: bool = False) -> Iterator[FileInfo | FolderInfo]:
    """Entries under the folder ``path``: direct children, or every file and folder below it.

    Recursive listings load one level of trees per query.
    """
    folder = tree_lookup(root_oid, path)
    if not isinstance(folder, FolderInfo):
        raise EntryNotFound(f"No folder '{path}' in this revision.")
    level = [folder]
    while level:
        trees = trees_load(item.oid for item in level)
        next_level = []
        for item in level:
            for entry in trees[item.oid]:
                info = _entry_info(item.path, entry)
                yield info
                if recursive and isinstance(info, FolderInfo):
                    next_level.append(info)
        level = next_level


def tree_files(root_oid: str) -> list[FileInfo]:
    return [info for info in tree_list(root_oid, recursive=True) if isinstance(info, FileInfo)]


def trees_files(root_oids: Iterable[str]) -> dict[str, list[FileInfo]]:
    """``tree_files`` of several trees at once: each level of all of them in one load."""
    files: dict[str, list[FileInfo]] = {root: [] for root in root_oids}
    level = [(root, FolderInfo(path="", oid=root)) for root in files]
    while level:
        trees = trees_load(folder.oid for _root, folder in level)
        next_level = []
        for root, folder in level:
            for entry in trees[folder.oid]:
                info = _entry_info(folder.path, entry)
                if isinstance(info, FolderInfo):
                    next_level.append((root, info))
                else:
                    files[root].append(info)
        level = next_level
    return files


@dataclass
class _Dir:
    oid: str | None  # None once changed
    children: dict[str, list] | None = None  # name -> entry; loaded lazily
    subdirs: dict[str, _Dir] = field(default_factory=dict)


class TreeEditor:
    """Applies additions and deletions to a tree and writes the changed trees.

    Paths must already be validated (``registry.git.paths.path_validate``).
    """

    def __init__(self, root_oid: str | None) -> None:
        self.root = _Dir(oid=root_oid, children=None if root_oid else {})
        self._pack_entries: dict[str, bytes] = {}

    def _children(self, node: _Dir) -> dict[str, list]:
        if node.children is None:
            entries = trees_load([node.oid])[node.oid]
            node.children = {entry[1]: entry for entry in entries}
        return node.children

    def _descend(self, segments: list[str], *, create: bool) -> list[_Dir]:
        """The chain of folders from the root to the parent of the last segment."""
        chain = [self.root]
        walked = []
        for segment in segments[:-1]:
            walked.append(segment)
            node = chain[-1]
            child = node.subdirs.get(segment)
            if child is None:
                entry = self._children(node).get(segment)
                if entry is None:
                    if not create:
                        return []
                    child = _Dir(oid=None, children={})
                    self._children(node)[segment] = [MODE_TREE, segment, ""]
                elif entry[0] != MODE_TREE:
                    if not create:
                        return []
                    raise InvalidPath(f"Cannot create '{'/'.join(segments)}': '{'/'.join(walked)}' is a file.")
                else:
                    child = _Dir(oid=entry[2])
                node.subdirs[segment] = child
            chain.append(child)
        return chain

    @staticmethod
    def _touch(chain: list[_Dir]) -> None:
        for node in chain:
            node.oid = None

    def lookup(self, path: str) -> list | None:
        segments = path.split("/")
        chain = self._descend(segments, create=False)
        if not chain:
            return None
        return self._children(chain[-1]).get(segments[-1])

    def add_file(self, path: str, *, oid: str, size: int, sha256: str, lfs: bool, mode: str = MODE_FILE) -> None:
        segments = path.split("/")
        chain = self._descend(segments, create=True)
        parent = chain[-1]
        existing = self._children(parent).get(segments[-1])
        if existing is not None and existing[0] == MODE_TREE:
            raise InvalidPath(f"Cannot create file '{path}': a folder with this name exists.")
        parent.subdirs.pop(segments[-1], None)
        self._children(parent)[segments[-1]] = [mode, segments[-1], oid, size, sha256, lfs]
        self._touch(chain)

    def delete_file(self, path: str) -> None:
        segments = path.split("/")
        chain = self._descend(segments, create=False)
        entry = self._children(chain[-1]).get(segments[-1]) if chain else None
        if entry is None or entry[0] == MODE_TREE:
            raise EntryNotFound(f"A file with this name doesn't exist: {path}")
        del self._children(chain[-1])[segments[-1]]
        self._touch(chain)

    def delete_folder(self, path: str) -> None:
        segments = path.split("/")
        chain = self._descend(segments, create=False)
        entry = self._children(chain[-1]).get(segments[-1]) if chain else None
        if entry is None or entry[0] != MODE_TREE:
            raise EntryNotFound(f"A folder with this name doesn't exist: {path}")
        del self._children(chain[-1])[segments[-1]]
        chain[-1].subdirs.pop(segments[-1], None)
        self._touch(chain)

    def write(self) -> str:
        """Store every changed tree (empty folders vanish, as in git) and return the root id."""
        new_rows: dict[str, list] = {}
        root = self._write(self.root, new_rows)
        if new_rows:
            GitTree.objects.bulk_create(
                [
                    GitTree(oid=oid, entries=entries, pack_entry=self._pack_entries[oid])
                    for oid, entries in new_rows.items()
                ],
                ignore_conflicts=True,
            )
            cache.set_many({CACHE_PREFIX + oid: entries for oid, entries in new_rows.items()}, CACHE_SECONDS)
        return root

    def _write(self, node: _Dir, new_rows: dict[str, list]) -> str:
        if node.oid is not None:
            return node.oid
        children = self._children(node)
        for name, sub in list(node.subdirs.items()):
            sub_oid = self._write(sub, new_rows)
            if sub_oid == EMPTY_TREE_OID:
                del children[name]
            else:
                children[name] = [MODE_TREE, name, sub_oid]
        node.subdirs.clear()
        for name, entry in list(children.items()):
            if entry[0] == MODE_TREE and entry[2] == "":
                del children[name]
        git_entries = [TreeEntry(mode=e[0], name=e[1], oid=e[2]) for e in children.values()]
        body = tree_body(git_entries)
        oid = object_id("tree", body)
        order = {entry.name: index for index, entry in enumerate(sorted_entries(git_entries))}
        stored = sorted(children.values(), key=lambda e: order[e[1]])
        if stored or node is self.root:
            new_rows[oid] = stored
            self._pack_entries[oid] = pack_entry(TREE, body)
        node.oid = oid
        return oid
