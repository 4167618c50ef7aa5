"""What changed between two trees: file-level changes and text diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from registry.git.objects import MODE_TREE
from registry.models import Blob
from registry.storage import blob_open
from registry.trees import FileInfo, trees_load

MAX_DIFF_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileChange:
    path: str
    kind: str  # "added", "modified" or "deleted"
    old: FileInfo | None
    new: FileInfo | None


def _entries(oid: str | None) -> dict[str, list]:
    if oid is None:
        return {}
    return {entry[1]: entry for entry in trees_load([oid])[oid]}


def _file(prefix: str, entry: list) -> FileInfo:
    return FileInfo(path=prefix + entry[1], oid=entry[2], size=entry[3], sha256=entry[4], lfs=entry[5], mode=entry[0])


def tree_changes(old_tree: str | None, new_tree: str | None) -> list[FileChange]:
    """Files added, modified or deleted from ``old_tree`` to ``new_tree`` (None: empty), by path.

    Sub-trees with equal ids are skipped without being read.
    """
    changes: list[FileChange] = []
    pending = [("", old_tree, new_tree)]
    while pending:
        prefix, old_oid, new_oid = pending.pop()
        if old_oid == new_oid:
            continue
        old, new = _entries(old_oid), _entries(new_oid)
        for name in old.keys() | new.keys():
            before, after = old.get(name), new.get(name)
            before_dir = before is not None and before[0] == MODE_TREE
            after_dir = after is not None and after[0] == MODE_TREE
            if before_dir or after_dir:
                pending.append((f"{prefix}{name}/", before[2] if before_dir else None, after[2] if after_dir else None))
            old_file = _file(prefix, before) if before is not None and not before_dir else None
            new_file = _file(prefix, after) if after is not None and not after_dir else None
            if old_file and new_file:
                if old_file.oid != new_file.oid or old_file.mode != new_file.mode:
                    changes.append(FileChange(path=new_file.path, kind="modified", old=old_file, new=new_file))
            elif new_file:
                changes.append(FileChange(path=new_file.path, kind="added", old=None, new=new_file))
            elif old_file:
                changes.append(FileChange(path=old_file.path, kind="deleted", old=old_file, new=None))
    return sorted(changes, key=lambda change: change.path)


def _text(info: FileInfo | None) -> list[str] | None:
    if info is None:
        return []
    if info.lfs or info.size > MAX_DIFF_BYTES:
        return None
    with blob_open(Blob.objects.get(sha256=info.sha256)) as handle:
        data = handle.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def unified_diff(change: FileChange) -> str | None:
    """A unified diff of a text file change; None for binary, LFS or very large files."""
    before, after = _text(change.old), _text(change.new)
    if before is None or after is None:
        return None
    lines = difflib.unified_diff(
        before,
        after,
        fromfile=f"a/{change.path}" if change.old else "/dev/null",
        tofile=f"b/{change.path}" if change.new else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def changes_as_patch(changes: list[FileChange]) -> str:
    """A git-style patch of ``changes``: a header per file, then its text diff when there is one."""
    parts = []
    for change in changes:
        parts.append(f"diff --git a/{change.path} b/{change.path}\n")
        if change.kind == "added":
            parts.append("new file mode 100644\n")
        elif change.kind == "deleted":
            parts.append("deleted file mode 100644\n")
        text = unified_diff(change)
        parts.append(text if text is not None else "Binary files differ\n")
    return "".join(parts)
