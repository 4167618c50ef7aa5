"""What a commit changed: the files it added, modified and deleted against its first parent, and
line diffs of the text files among them.

Trees are compared level by level (one ``trees_load`` per level, both sides together), and a
sub-tree whose id did not change is never opened, so the cost follows the size of the change,
not of the repository.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

from registry.git.objects import MODE_TREE
from registry.models import GitCommit
from registry.selectors.pages import file_read, looks_binary
from registry.trees import FileInfo, trees_load

# Sides larger than this, or with more lines than MAX_DIFF_INPUT_LINES, are not diffed.
MAX_DIFF_BYTES = 512 * 1024
MAX_DIFF_INPUT_LINES = 20_000
# Longest diff shown for one file, in output lines.
MAX_DIFF_LINES = 3_000
CONTEXT_LINES = 3


class ChangeStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class FileChange:
    path: str
    status: ChangeStatus
    old: FileInfo | None
    new: FileInfo | None


def _file(path: str, entry: list) -> FileInfo:
    return FileInfo(path=path, oid=entry[2], size=entry[3], sha256=entry[4], lfs=entry[5], mode=entry[0])


def tree_changes(*, old_tree: str | None, new_tree: str | None) -> list[FileChange]:
    """Files that differ between two trees (either may be None: the empty tree), by path."""
    changes: list[FileChange] = []
    pending = [("", old_tree, new_tree)]
    while pending:
        trees = trees_load({oid for _, old, new in pending for oid in (old, new) if oid})
        following = []
        for prefix, old, new in pending:
            old_entries = {entry[1]: entry for entry in trees[old]} if old else {}
            new_entries = {entry[1]: entry for entry in trees[new]} if new else {}
            for name in old_entries.keys() | new_entries.keys():
                before, after = old_entries.get(name), new_entries.get(name)
                if before is not None and after is not None and before[:3] == after[:3]:
                    continue
                path = f"{prefix}/{name}" if prefix else name
                before_tree = before is not None and before[0] == MODE_TREE
                after_tree = after is not None and after[0] == MODE_TREE
                if before_tree or after_tree:
                    following.append((path, before[2] if before_tree else None, after[2] if after_tree else None))
                old_file = _file(path, before) if before is not None and not before_tree else None
                new_file = _file(path, after) if after is not None and not after_tree else None
                if old_file and new_file:
                    changes.append(FileChange(path, ChangeStatus.MODIFIED, old_file, new_file))
                elif old_file:
                    changes.append(FileChange(path, ChangeStatus.DELETED, old_file, None))
                elif new_file:
                    changes.append(FileChange(path, ChangeStatus.ADDED, None, new_file))
        pending = following
    changes.sort(key=lambda change: change.path)
    return changes


def commit_changes(*, commit: GitCommit, parent: GitCommit | None) -> list[FileChange]:
    """What ``commit`` changed against ``parent`` (its first parent; None for a root commit)."""
    return tree_changes(old_tree=parent.tree_oid if parent is not None else None, new_tree=commit.tree_oid)


class DiffLineKind(StrEnum):
    HUNK = "hunk"
    CONTEXT = "context"
    ADDED = "added"
    DELETED = "deleted"


@dataclass(frozen=True)
class DiffLine:
    kind: DiffLineKind
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class FileDiff:
    """The line diff of one change, or the reason there is none (``skipped``)."""

    change: FileChange
    lines: tuple[DiffLine, ...]
    additions: int
    deletions: int
    skipped: str = ""  # "binary", "too large" or "" when ``lines`` is the diff
    truncated: bool = False


def _text_lines(file: FileInfo | None) -> list[str] | None:
    """The lines of ``file`` (empty for a missing side); None when it cannot be diffed as text."""
    if file is None:
        return []
    data = file_read(file=file, limit=MAX_DIFF_BYTES + 1)
    if looks_binary(data):
        return None
    return data.decode("utf-8", "replace").splitlines()


def file_diff(*, change: FileChange) -> FileDiff:
    """The unified line diff (with ``CONTEXT_LINES`` of context) of one change."""
    sizes = [side.size for side in (change.old, change.new) if side is not None]
    if any(size > MAX_DIFF_BYTES for size in sizes):
        return FileDiff(change=change, lines=(), additions=0, deletions=0, skipped="too large")
    old_lines, new_lines = _text_lines(change.old), _text_lines(change.new)
    if old_lines is None or new_lines is None:
        return FileDiff(change=change, lines=(), additions=0, deletions=0, skipped="binary")
    if max(len(old_lines), len(new_lines)) > MAX_DIFF_INPUT_LINES:
        return FileDiff(change=change, lines=(), additions=0, deletions=0, skipped="too large")
    lines: list[DiffLine] = []
    additions = deletions = 0
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        first, last = group[0], group[-1]
        header = f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@"
        lines.append(DiffLine(DiffLineKind.HUNK, None, None, header))
        for tag, old_start, old_end, new_start, new_end in group:
            if tag == "equal":
                for offset in range(old_end - old_start):
                    lines.append(
                        DiffLine(DiffLineKind.CONTEXT, old_start + offset + 1, new_start + offset + 1,
                                 old_lines[old_start + offset])
                    )  # fmt: skip
                continue
            for number in range(old_start, old_end):
                lines.append(DiffLine(DiffLineKind.DELETED, number + 1, None, old_lines[number]))
                deletions += 1
            for number in range(new_start, new_end):
                lines.append(DiffLine(DiffLineKind.ADDED, None, number + 1, new_lines[number]))
                additions += 1
    truncated = len(lines) > MAX_DIFF_LINES
    return FileDiff(
        change=change, lines=tuple(lines[:MAX_DIFF_LINES]), additions=additions, deletions=deletions,
        truncated=truncated,
    )  # fmt: skip


_PREFIX = {DiffLineKind.CONTEXT: " ", DiffLineKind.ADDED: "+", DiffLineKind.DELETED: "-"}


def changes_as_patch(changes: list[FileChange]) -> str:
    """A git-style patch of ``changes`` (the ``diff`` of a pull request in the HF API): a header
    per file, then its unified diff, or a note when the file is binary or too large."""
    parts = []
    for change in changes:
        parts.append(f"diff --git a/{change.path} b/{change.path}\n")
        if change.status == ChangeStatus.ADDED:
            parts.append("new file mode 100644\n")
        elif change.status == ChangeStatus.DELETED:
            parts.append("deleted file mode 100644\n")
        diff = file_diff(change=change)
        if diff.skipped:
            parts.append(f"Binary files differ ({diff.skipped})\n")
            continue
        parts.append(f"--- {'a/' + change.path if change.old else '/dev/null'}\n")
        parts.append(f"+++ {'b/' + change.path if change.new else '/dev/null'}\n")
        for line in diff.lines:
            parts.append(f"{line.text}\n" if line.kind == DiffLineKind.HUNK else f"{_PREFIX[line.kind]}{line.text}\n")
    return "".join(parts)
