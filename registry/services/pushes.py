"""Pushes over git: a pack and ref updates, accepted only through the registry's commit rules.

A push is checked as a whole before anything becomes visible:

- who may move which ref (branches and tags: writers; ``refs/pr/N``: the pull request's author
  and writers, while it is open) — decided before the pack is read;
- every object the new commits need is in the pack or already in this repository (a tree or file
  of another repository cannot be borrowed by naming its id); trees are canonical, paths pass
  ``registry.git.paths``, no symlinks or submodules;
- files the Hub stores as LFS (``lfs_required``: size or ``.gitattributes``) arrive as LFS
  pointers, and every pointer names an object this repository holds — uploaded through the LFS
  batch API before the pack, as git-lfs does — else the push is refused with the missing list;
- ``README.md`` metadata at each new tip is valid;
- refs move fast-forward only, from the value the client saw (:func:`ref_update_check`).

Lock order: none. Blobs and trees are written before any transaction (content-addressed,
idempotent, invisible until a commit names them); each ref then moves in a transaction of its
own — one for all refs when the client asks for an atomic push — by compare-and-swap against the
value the client saw, so a push racing an API commit either wins or is refused with nothing
changed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from common.errors import HubError, PermissionDenied, PreconditionFailed, ValidationError
from registry.access import Permission, repo_role
from registry.git.attributes import GitAttributes
from registry.git.objects import MODE_TREE, lfs_pointer_parse
from registry.git.packs import (
    BLOB,
    COMMIT,
    FILE_MODES,
    MODE_SUBMODULE,
    MODE_SYMLINK,
    TREE,
    PackError,
    PushedCommit,
    commit_parse,
    pack_objects,
    pack_receive,
    tree_parse,
)
from registry.git.paths import InvalidPath, path_validate
from registry.hooks import RefAction, pull_request_refs, ref_guards_check
from registry.models import Blob, GitCommit, GitTree, Ref, Repo, RepoBlob, blob_storage_key
from registry.scanning import is_scannable_path
from registry.selectors.packs import CommitNode, commit_graph_load, tree_pack_entry
from registry.services.commits import GITATTRIBUTES, README, card_check, commit_objects_record, lfs_required
from registry.services.metadata import repo_on_default_branch_commit
from registry.services.refs import ref_compare_and_swap, ref_name_validate
from registry.services.scans import scans_queue_for_files
from registry.storage import BlobWriter, StagedBlob, blob_storage, blobs_promote, stage_in_memory, staging_dir
from registry.trees import CACHE_PREFIX, CACHE_SECONDS, trees_load

# Files named in one refusal message, at most.
LISTED = 20
# Pushed files up to this size wait in memory rather than in a staging file, up to the budget.
IN_MEMORY_BLOB = 256 * 1024
IN_MEMORY_BUDGET = 64 * 1024 * 1024


@dataclass(frozen=True)
class RefUpdate:
    """One command of a push: ``old`` is the value the client saw (None: absent), ``new`` the
    value it asks for (None: delete)."""

    name: str
    old: str | None
    new: str | None


@dataclass
class RefResult:
    name: str
    error: str | None = None


@dataclass
class PushStream:
    """Where the pack comes from: ``read`` blocks for the bytes asked, ``read_some`` may return fewer."""

    read: Callable[[int], bytes]
    read_some: Callable[[int], bytes] | None = None


class PushRefused(ValidationError):
    code = "push_refused"


@dataclass(frozen=True)
class _Meta:
    """What a tree entry records about a file besides its id."""

    size: int
    sha256: str
    lfs: bool


@dataclass
class _Received:
    """The objects of a pushed pack: regular file contents wait in staging files."""

    commits: dict[str, PushedCommit] = field(default_factory=dict)
    trees: dict[str, list] = field(default_factory=dict)
    staged: dict[str, StagedBlob] = field(default_factory=dict)
    pointers: dict[str, _Meta] = field(default_factory=dict)
    in_memory: int = 0  # bytes of ``staged`` held in memory

    def discard(self) -> None:
        for staged in self.staged.values():
            staged.discard()

    def blob_meta(self, oid: str) -> _Meta | None:
        if oid in self.pointers:
            return self.pointers[oid]
        staged = self.staged.get(oid)
        return None if staged is None else _Meta(size=staged.size, sha256=staged.sha256, lfs=False)


# ----------------------------------------------------------------------------------------- rules


def ref_update_check(
    *, repo: Repo, user, update: RefUpdate, current: str | None, is_ancestor: Callable[[str, str], bool]
) -> str | None:
    """Why ``update`` may not happen (None: it may), given the ref's ``current`` value.

    The one place a push decides about a ref: the ref guards (``registry.hooks``: branch rules)
    are asked first; no ref moves other than forward.
    """
    if current != update.old:
        return "stale info: the ref moved since you fetched; fetch, merge or rebase, and push again"
    if update.name.startswith("refs/heads/"):
        try:
            action = RefAction.DELETE if update.new is None else RefAction.COMMIT
            ref_guards_check(repo=repo, user=user, ref=update.name, action=action)
        except HubError as error:
            return error.message
    if update.new is None:
        if update.name == f"refs/heads/{repo.default_branch}":
            return f"cannot delete {update.name}: it is the default branch"
        if update.name.startswith("refs/pr/"):
            return "pull request refs cannot be deleted; close the pull request instead"
        return None
    if update.name.startswith("refs/tags/"):
        return None if update.old is None else f"tag {update.name[10:]} already exists; tags do not move"
    if update.old is not None and not is_ancestor(update.old, update.new):
        return "non-fast-forward: the push would drop commits from the ref; fetch and merge or rebase first"
    return None


def _permission_error(*, repo: Repo, user, update: RefUpdate) -> str | None:
    """Who may move this ref, checked before the pack is read."""
    name = update.name
    try:
        if name.startswith("refs/heads/"):
            ref_name_validate(name[11:], kind="branch")
        elif name.startswith("refs/tags/"):
            ref_name_validate(name[10:], kind="tag")
        elif name.startswith("refs/pr/") and name[8:].isdigit():
            pull_request_refs().check_push(repo=repo, user=user, num=int(name[8:]))
            return None
        else:
            return "only branches (refs/heads/*), tags (refs/tags/*) and pull requests (refs/pr/N) can be pushed"
    except HubError as error:
        return error.message
    role = repo_role(user=user, repo=repo)
    if role is None or role < Permission.WRITE:
        return f"you are not allowed to write to {repo.repo_id}; push to a pull request (refs/pr/N) instead"
    return None


# ------------------------------------------------------------------------------------ receiving


def _pack_read(stream: PushStream, progress: Callable[[str], None]) -> _Received:
    """Receive the pack into a staging file and sort its objects; regular files go to staging."""
    received = _Received()
    fd, name = tempfile.mkstemp(prefix="push-", suffix=".pack", dir=staging_dir())
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            pack_receive(
                read=stream.read, read_some=stream.read_some, out=out, max_bytes=settings.HUB_GIT_MAX_PUSH_BYTES
            )
        for type_num, oid, chunks in pack_objects(path):
            if type_num == COMMIT:
                received.commits[oid] = commit_parse(oid, b"".join(chunks))
            elif type_num == TREE:
                received.trees[oid] = tree_parse(oid, b"".join(chunks))
            elif type_num == BLOB:
                _blob_receive(received, oid, chunks)
            else:
                raise PackError("Annotated tags are not supported: push lightweight tags (git tag NAME).")
        progress(
            f"Received {len(received.commits)} commits, {len(received.trees)} trees and "
            f"{len(received.staged) + len(received.pointers)} files."
        )
        return received
    except BaseException:
        received.discard()
        raise
    finally:
        path.unlink(missing_ok=True)


def _blob_receive(received: _Received, oid: str, chunks: list[bytes]) -> None:
    size = sum(len(chunk) for chunk in chunks)
    pointer = lfs_pointer_parse(b"".join(chunks)) if size <= 200 else None
    if pointer is not None:
        received.pointers[oid] = _Meta(size=pointer[1], sha256=pointer[0], lfs=True)
        return
    if size <= IN_MEMORY_BLOB and received.in_memory + size <= IN_MEMORY_BUDGET:
        staged = stage_in_memory(b"".join(chunks))
        received.in_memory += size
    else:
        staged = _stage_file(chunks, size)
    if staged.git_sha1 != oid:
        staged.discard()
        raise PackError(f"Blob {oid} does not hash to its id.")
    received.staged[oid] = staged


def _stage_file(chunks: list[bytes], size: int) -> StagedBlob:
    writer = BlobWriter(expected_size=size)
    try:
        for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def _drain(stream: PushStream) -> None:
    while stream.read_some(65536) if stream.read_some else stream.read(65536):
        pass


# ----------------------------------------------------------------------------------- validation


@dataclass
class _Checked:
    """What a valid push writes: tree rows, files to promote, and the new commits."""

    tree_rows: dict[str, list] = field(default_factory=dict)
    promote: dict[str, StagedBlob] = field(default_factory=dict)
    new_commits: dict[str, PushedCommit] = field(default_factory=dict)
    # Regular files under pickle-based or archive names, to scan: git id -> path.
    scan_paths: dict[str, str] = field(default_factory=dict)


class _Checker:
    """Walks the new commits' trees against their parents', all commits a level at a time."""

    def __init__(self, *, repo: Repo, received: _Received, graph: dict[str, CommitNode]) -> None:
        self.repo = repo
        self.received = received
        self.graph = graph
        self.meta: dict[str, _Meta] = {}
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
                    self.meta.setdefault(entry[2], _Meta(size=entry[3], sha256=entry[4], lfs=entry[5]))
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

    def _lookup(self, wanted: dict[str, str]) -> dict[str, _Meta]:
        """Files of this repository by git id — their content's or their LFS pointer's (one query)."""
        ids = list(wanted)
        rows = Blob.objects.filter(Q(git_sha1__in=ids) | Q(pointer_oid__in=ids), repo_links__repo=self.repo)
        found: dict[str, _Meta] = {}
        for blob in rows.only("sha256", "git_sha1", "pointer_oid", "size"):
            if blob.pointer_oid in wanted:
                found[blob.pointer_oid] = _Meta(size=blob.size, sha256=blob.sha256, lfs=True)
            if blob.git_sha1 in wanted and blob.git_sha1 not in found:
                found[blob.git_sha1] = _Meta(size=blob.size, sha256=blob.sha256, lfs=False)
        self.meta.update(found)
        return found

    def check(self, new_commits: dict[str, PushedCommit]) -> _Checked:
        checked = _Checked(new_commits=new_commits)
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

    def _check_file(self, path: str, mode: str, oid: str, attributes: GitAttributes, checked: _Checked) -> None:
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

    def _resolve(self, checked: _Checked) -> None:
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


def _new_commits(*, received: _Received, graph: dict[str, CommitNode], tips: list[str]) -> dict[str, PushedCommit]:
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


# ----------------------------------------------------------------------------------------- entry


def push_receive(
    *,
    repo: Repo,
    user,
    updates: list[RefUpdate],
    stream: PushStream | None,
    atomic: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> list[RefResult]:
    """Apply a push: read the pack (if any), check it whole, then move each ref by compare-and-swap.

    Returns one result per update, in order; a refusal names its reason (git shows it after the
    ref). A pack that cannot be accepted at all raises ``PushRefused``/``PackError`` after the
    stream was read to its end, with nothing written.
    """
    results = [
        RefResult(name=update.name, error=_permission_error(repo=repo, user=user, update=update)) for update in updates
    ]
    received = _Received()
    try:
        if stream is not None:
            if all(result.error for result in results) or (atomic and any(result.error for result in results)):
                _drain(stream)
                stream = None
            else:
                try:
                    received = _pack_read(stream, progress)
                except PackError as error:
                    _drain(stream)
                    raise PushRefused(str(error)) from None
        if any(result.error for result in results) and (atomic or all(result.error for result in results)):
            for result in results:
                result.error = result.error or "atomic push failed"
                progress(f"error: {result.name}: {result.error}")
            return results
        graph = commit_graph_load(repo=repo)
        refs = dict(Ref.objects.filter(repo=repo).values_list("name", "target_oid"))
        live = [(update, result) for update, result in zip(updates, results, strict=True) if result.error is None]
        tips = [update.new for update, _ in live if update.new is not None]
        new_commits = _new_commits(received=received, graph=graph, tips=tips)
        checker = _Checker(repo=repo, received=received, graph=graph)
        checked = checker.check(new_commits)
        if checker.errors:
            for message in checker.errors:
                progress(f"error: {message}")
            raise PushRefused(checker.errors[0])

        parents = {oid: commit.parents for oid, commit in new_commits.items()}
        parents.update({oid: node.parents for oid, node in graph.items()})

        def is_ancestor(ancestor: str, descendant: str) -> bool:
            return ancestor in _reachable(parents, descendant)

        cards = {}
        for update, result in live:
            result.error = ref_update_check(
                repo=repo, user=user, update=update, current=refs.get(update.name), is_ancestor=is_ancestor
            )
            if result.error is None and update.new is not None:
                result.error = _tip_check(checker, update, cards)
        refused = [result for result in results if result.error]
        if atomic and refused:
            for result in results:
                result.error = result.error or f"atomic push failed: {refused[0].name} was refused"
        else:
            _write_objects(repo=repo, checked=checked)
            _move_refs(
                repo=repo,
                user=user,
                live=[(u, r) for u, r in live if r.error is None],
                checked=checked,
                cards=cards,
                atomic=atomic,
            )
        for result in results:
            if result.error:
                progress(f"error: {result.name}: {result.error}")
        return results
    finally:
        received.discard()


def _reachable(parents: dict[str, tuple[str, ...]], head: str) -> set[str]:
    seen: set[str] = set()
    stack = [head]
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        stack.extend(parents.get(oid, ()))
    return seen


def _readme_oid(checker: _Checker, commit: str | None) -> str | None:
    if commit is None:
        return None
    tree = checker.tree_of(commit)
    entry = checker._entries({tree})[tree].get(README)
    return entry[1] if entry and entry[0] in FILE_MODES else None


def _tip_check(checker: _Checker, update: RefUpdate, cards: dict) -> str | None:
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


def _write_objects(*, repo: Repo, checked: _Checked) -> None:
    """Files and trees, before any ref moves: content-addressed, so writing them twice is harmless."""
    if checked.promote:
        blobs = blobs_promote(list(checked.promote.values()))
        RepoBlob.objects.bulk_create(
            [RepoBlob(repo=repo, blob=blob) for blob in blobs.values()], ignore_conflicts=True, batch_size=500
        )
        scans_queue_for_files(
            files=[(path, blobs[checked.promote[oid].sha256], False) for oid, path in checked.scan_paths.items()]
        )
    if checked.tree_rows:
        GitTree.objects.bulk_create(
            [
                GitTree(oid=oid, entries=entries, pack_entry=tree_pack_entry(entries))
                for oid, entries in checked.tree_rows.items()
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        cache.set_many({CACHE_PREFIX + oid: entries for oid, entries in checked.tree_rows.items()}, CACHE_SECONDS)


def _move_refs(*, repo: Repo, user, live: list, checked: _Checked, cards: dict, atomic: bool) -> None:
    """Record each ref's new commits and move it; one transaction per ref, or one for all."""
    default = f"refs/heads/{repo.default_branch}"

    def apply(update: RefUpdate) -> None:
        commits = []
        if update.new is not None:
            reachable = _reachable({oid: c.parents for oid, c in checked.new_commits.items()}, update.new)
            commits = [commit for oid, commit in checked.new_commits.items() if oid in reachable]
            commit_objects_record(repo=repo, user=user, commits=commits, trees=checked.tree_rows)
        ref_compare_and_swap(repo=repo, name=update.name, expected=update.old, new=update.new)
        if update.name.startswith("refs/pr/"):
            rows = {c.oid: c for c in GitCommit.objects.filter(repo=repo, oid__in=[c.oid for c in commits])}
            pull_request_refs().record_commits(
                repo=repo, user=user, num=int(update.name[8:]), commits=[rows[commit.oid] for commit in commits]
            )
        if update.name == default and update.new is not None:
            tip = GitCommit.objects.get(repo=repo, oid=update.new)
            changed = update.name in cards
            repo_on_default_branch_commit(repo=repo, commit=tip, card=cards.get(update.name), card_changed=changed)

    if atomic:
        try:
            with transaction.atomic():
                for update, _ in live:
                    apply(update)
        except (PreconditionFailed, PermissionDenied, ValidationError) as error:
            for _, result in live:
                result.error = f"atomic push failed: {error.message}"
        return
    for update, result in live:
        try:
            with transaction.atomic():
                apply(update)
        except (PreconditionFailed, PermissionDenied, ValidationError) as error:
            result.error = f"stale info: {error.message}" if isinstance(error, PreconditionFailed) else error.message
