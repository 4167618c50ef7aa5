"""Checking a received push whole before anything is written: every object the new commits need,
the paths and modes of their trees, files that must be LFS, and the card at each new tip."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from common.errors import HubError
from registry.git.attributes import GitAttributes
from registry.git.objects import MODE_TREE
from registry.git.packs import FILE_MODES, MODE_SUBMODULE, MODE_SYMLINK, PushedCommit
from registry.git.paths import InvalidPath, path_validate
from registry.models import Blob, GitTree, Repo, blob_storage_key
from registry.scanning import is_scannable_path
from registry.selectors.packs import CommitNode
from registry.services.commits import GITATTRIBUTES, README, card_check, lfs_required
from registry.services.pushes.pack import FileMeta, Received
from registry.services.pushes.rules import PushRefused, RefUpdate
from registry.storage import StagedBlob, blob_storage
from registry.trees import trees_load

# Files named in one refusal message, at most.
LISTED = 20


@dataclass
class Checked:
    """What a valid push writes: tree rows, files to promote, and the new commits."""

    tree_rows: dict[str, list] = field(default_factory=dict)
    promote: dict[str, StagedBlob] = field(default_factory=dict)
    new_commits: dict[str, PushedCommit] = field(default_factory=dict)
    # Regular files under pickle-based or archive names, to scan: git id -> path.
    scan_paths: dict[str, str] = field(default_factory=dict)


class Checker:
    """Walks the new commits' trees against their parents', all commits a level at a time."""

    def __init__(self, *, repo: Repo, received: Received, graph: dict[str, CommitNode]) -> None:
        self.repo = repo
        self.received = received
        self.graph = graph
        self.meta: dict[str, FileMeta] = {}
        self.unresolved: dict[str, str] = {}  # blob id -> a path naming it
        self.foreign_trees: dict[str, str] = {}  # tree id not in the pack nor a parent's -> path
        self.lfs_needed: dict[str, tuple[str, int]] = {}  # sha256 -> (path, size)
        self.errors: list[str] = []
        self.attributes: dict[str | None, GitAttributes] = {}  # by .gitattributes blob id
        self.root_attributes: dict[str, GitAttributes] = {}  # by root tree id

    def tree_of(self, commit: str) -> str:
        if commit in self.received.commits:
            return self.received.commits[commit].tree
        return self.graph[commit].tree

    def _entries(self, oids: set[str]) -> dict[str, dict[str, tuple[str, str]]]:
        """name -> (mode, oid) of each tree, from the pack or (one query) the database; file
        metadata the database records is remembered on the way."""
        result = {
            oid: {e.name: (e.mode, e.oid) for e in self.received.trees[oid]}
            for oid in oids
            if oid in self.received.trees
        }
        stored = trees_load(oids - result.keys()) if oids - result.keys() else {}
        for oid, entries in stored.items():
            result[oid] = {entry[1]: (entry[0], entry[2]) for entry in entries}
            for entry in entries:
                if entry[0] != MODE_TREE:
                    self.meta.setdefault(entry[2], FileMeta(size=entry[3], sha256=entry[4], lfs=entry[5]))
        return result

    def _attributes_of(self, tree: str) -> GitAttributes:
        """The LFS rules of ``tree``'s root ``.gitattributes``."""
        if tree in self.root_attributes:
            return self.root_attributes[tree]
        self.root_attributes[tree] = self._attributes_read(tree)
        return self.root_attributes[tree]

    def _attributes_read(self, tree: str) -> GitAttributes:
        root = self._entries({tree})[tree]
        entry = root.get(GITATTRIBUTES)
        blob = entry[1] if entry and entry[0] in FILE_MODES else None
        if blob not in self.attributes:
            self.attributes[blob] = GitAttributes.from_bytes(self.blob_bytes(blob) if blob else b"")
        return self.attributes[blob]

    def blob_bytes(self, oid: str, limit: int = 5 * 1024 * 1024) -> bytes:
        """A small file's content (``.gitattributes``, ``README.md``), pushed or stored."""
        staged = self.received.staged.get(oid)
        if staged is not None:
            if staged.size > limit:
                return b""
            return staged.read()
        meta = self.meta.get(oid) or self._lookup({oid: ""}).get(oid)
        if meta is None or meta.lfs or meta.size > limit:
            return b""
        with blob_storage().open(blob_storage_key(meta.sha256), "rb") as handle:
            return handle.read()

    def _lookup(self, wanted: dict[str, str]) -> dict[str, FileMeta]:
        """Files of this repository by git id — their content's or their LFS pointer's (one query)."""
        ids = list(wanted)
        rows = Blob.objects.filter(Q(git_sha1__in=ids) | Q(pointer_oid__in=ids), repo_links__repo=self.repo)
        found: dict[str, FileMeta] = {}
        for blob in rows.only("sha256", "git_sha1", "pointer_oid", "size"):
            if blob.pointer_oid in wanted:
                found[blob.pointer_oid] = FileMeta(size=blob.size, sha256=blob.sha256, lfs=True)
            if blob.git_sha1 in wanted and blob.git_sha1 not in found:
                found[blob.git_sha1] = FileMeta(size=blob.size, sha256=blob.sha256, lfs=False)
        self.meta.update(found)
        return found

    def check(self, new_commits: dict[str, PushedCommit]) -> Checked:
        checked = Checked(new_commits=new_commits)
        # (path, new tree, parent trees at that path, the commit's root tree for .gitattributes)
        frontier = []
        for commit in new_commits.values():
            olds = [self.tree_of(parent) for parent in commit.parents]
            frontier.append(("", commit.tree, olds, commit.tree))
        seen: set[tuple[str, str, str]] = set()
        while frontier:
            level = []
            for path, new, olds, root in frontier:
                attributes_key = root
                if new in olds or (path, new, attributes_key) in seen:
                    continue
                seen.add((path, new, attributes_key))
                if new not in self.received.trees:
                    self.foreign_trees.setdefault(new, path or "/")
                    continue
                level.append((path, new, olds, root))
            entries = self._entries({new for _, new, _, _ in level} | {old for _, _, olds, _ in level for old in olds})
            frontier = []
            for path, new, olds, root in level:
                checked.tree_rows.setdefault(new, [])
                attributes = self._attributes_of(root)
                for name, (mode, oid) in entries[new].items():
                    full = f"{path}/{name}" if path else name
                    previous = [entries[old][name] for old in olds if name in entries[old]]
                    if any(item[1] == oid for item in previous):
                        if mode != MODE_TREE:
                            self._note_known(oid, full)
                        continue
                    try:
                        path_validate(full)
                    except InvalidPath as error:
                        self.errors.append(error.message)
                        continue
                    if mode == MODE_TREE:
                        children = [item[1] for item in previous if item[0] == MODE_TREE]
                        frontier.append((full, oid, children, root))
                    else:
                        self._check_file(full, mode, oid, attributes, checked)
        self._resolve(checked)
        return checked

    def _note_known(self, oid: str, path: str) -> None:
        if oid not in self.meta and self.received.blob_meta(oid) is None:
            self.unresolved.setdefault(oid, path)

    def _check_file(self, path: str, mode: str, oid: str, attributes: GitAttributes, checked: Checked) -> None:
        if mode == MODE_SYMLINK:
            self.errors.append(f"'{path}' is a symbolic link; the hub stores files only.")
            return
        if mode == MODE_SUBMODULE:
            self.errors.append(f"'{path}' is a submodule; submodules are not supported.")
            return
        if mode not in FILE_MODES:
            self.errors.append(f"'{path}' has the unsupported mode {mode}.")
            return
        if oid in self.received.pointers:
            pointer = self.received.pointers[oid]
            self.lfs_needed.setdefault(pointer.sha256, (path, pointer.size))
        elif oid in self.received.staged:
            staged = self.received.staged[oid]
            if lfs_required(path=path, size=staged.size, attributes=attributes):
                self.errors.append(
                    f"'{path}' ({staged.size} bytes) must be stored with Git LFS: run `git lfs install` and "
                    f"`git lfs track` it, then `git lfs migrate import --include='{path}'` and push again."
                )
            checked.promote[oid] = staged
            if is_scannable_path(path):
                checked.scan_paths.setdefault(oid, path)
        else:
            self._note_known(oid, path)

    def _resolve(self, checked: Checked) -> None:
        """Ids not in the pack: found among this repository's files, or reported missing."""
        pending = {oid: path for oid, path in self.unresolved.items() if oid not in self.meta}
        if pending:
            self._lookup(pending)
        missing = [f"{path} ({oid})" for oid, path in pending.items() if oid not in self.meta]
        missing += self._foreign_trees_missing()
        if missing:
            self.errors.append(f"Objects missing from the push: {', '.join(sorted(missing)[:LISTED])}.")
        if self.lfs_needed:
            held = dict(
                Blob.objects.filter(sha256__in=list(self.lfs_needed), repo_links__repo=self.repo).values_list(
                    "sha256", "size"
                )
            )
            absent = [
                f"{path} ({sha256})" for sha256, (path, _) in sorted(self.lfs_needed.items()) if sha256 not in held
            ]
            if absent:
                self.errors.append(
                    f"LFS objects missing ({len(absent)}): {', '.join(absent[:LISTED])}. Push them with git-lfs "
                    "(`git lfs push --all origin`) and push again."
                )
            wrong = [path for sha256, (path, size) in self.lfs_needed.items() if held.get(sha256, size) != size]
            if wrong:
                self.errors.append(f"LFS pointers with the wrong size: {', '.join(sorted(wrong)[:LISTED])}.")
        if self.errors:
            return
        for oid in list(checked.tree_rows):
            rows = []
            for entry in self.received.trees[oid]:
                if entry.mode == MODE_TREE:
                    rows.append([entry.mode, entry.name, entry.oid])
                    continue
                meta = self.received.blob_meta(entry.oid) or self.meta[entry.oid]
                rows.append([entry.mode, entry.name, entry.oid, meta.size, meta.sha256, meta.lfs])
            checked.tree_rows[oid] = rows

    def _foreign_trees_missing(self) -> list[str]:
        """Trees named by id only must be this repository's: every file below them one it holds."""
        missing = []
        level = dict(self.foreign_trees)
        files: dict[str, str] = {}
        while level:
            stored = dict(GitTree.objects.filter(oid__in=list(level)).values_list("oid", "entries"))
            next_level = {}
            for oid, path in level.items():
                if oid not in stored:
                    missing.append(f"{path} ({oid})")
                    continue
                for entry in stored[oid]:
                    child = f"{path.rstrip('/')}/{entry[1]}"
                    if entry[0] == MODE_TREE:
                        next_level[entry[2]] = child
                    else:
                        files[entry[4]] = child
            level = next_level
        if files:
            held = set(
                Blob.objects.filter(sha256__in=list(files), repo_links__repo=self.repo).values_list("sha256", flat=True)
            )
            missing += [f"{path} ({sha256})" for sha256, path in files.items() if sha256 not in held]
        return missing


def new_commits_sorted(*, received: Received, graph: dict[str, CommitNode], tips: list[str]) -> dict[str, PushedCommit]:
    """Commits reachable from ``tips`` that this repository lacks, parents first."""
    order: list[str] = []
    state: dict[str, bool] = {}
    for tip in tips:
        stack = [(tip, False)]
        while stack:
            oid, expanded = stack.pop()
            if oid in graph or state.get(oid):
                continue
            if oid not in received.commits:
                raise PushRefused(f"Commit {oid} is neither in the push nor in this repository.")
            if expanded:
                state[oid] = True
                order.append(oid)
                continue
            if oid in state:
                continue
            state[oid] = False
            stack.append((oid, True))
            stack.extend((parent, False) for parent in received.commits[oid].parents if parent not in state)
    return {oid: received.commits[oid] for oid in order}


def _readme_oid(checker: Checker, commit: str | None) -> str | None:
    if commit is None:
        return None
    tree = checker.tree_of(commit)
    entry = checker._entries({tree})[tree].get(README)
    return entry[1] if entry and entry[0] in FILE_MODES else None


def tip_check(checker: Checker, update: RefUpdate, cards: dict) -> str | None:
    """The card at a new tip must be valid when it changed (as for any commit touching it)."""
    if update.new not in checker.received.commits and update.new not in checker.graph:
        return f"{update.new} is not a commit of this push or of this repository"
    new_readme = _readme_oid(checker, update.new)
    if new_readme == _readme_oid(checker, update.old):
        return None
    if new_readme is None:
        cards[update.name] = None
        return None
    try:
        cards[update.name] = card_check(repo=checker.repo, readme=checker.blob_bytes(new_readme))
    except HubError as error:
        return error.message
    return None
