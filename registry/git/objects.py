"""Git object ids and encodings: blobs, trees, commits and LFS pointers.

Ids are the sha1 of ``b"<type> <size>\\0" + body``, so a later ``git clone`` over smart HTTP can
serve exactly this history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
MODE_SYMLINK = "120000"
MODE_TREE = "40000"

EMPTY_TREE_OID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

LFS_POINTER_VERSION = "https://git-lfs.github.com/spec/v1"


def object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


def blob_hasher(size: int):
    """A sha1 object already fed the blob header, for hashing content as it streams."""
    hasher = hashlib.sha1(f"blob {size}\0".encode())
    return hasher


def blob_oid(data: bytes) -> str:
    return object_id("blob", data)


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One entry of a git tree: ``mode`` (git's octal string), ``name`` and the object id."""

    mode: str
    name: str
    oid: str

    @property
    def is_tree(self) -> bool:
        return self.mode == MODE_TREE


def _sort_key(entry: TreeEntry) -> bytes:
    # git orders entries by name bytes, comparing a tree's name as if it ended with "/".
    name = entry.name.encode()
    return name + b"/" if entry.is_tree else name


def tree_body(entries: Iterable[TreeEntry]) -> bytes:
    """The canonical body of a tree object (entries in git order)."""
    parts = []
    for entry in sorted(entries, key=_sort_key):
        parts.append(f"{entry.mode} {entry.name}".encode() + b"\0" + bytes.fromhex(entry.oid))
    return b"".join(parts)


def tree_oid(entries: Iterable[TreeEntry]) -> str:
    return object_id("tree", tree_body(entries))


def sorted_entries(entries: Iterable[TreeEntry]) -> list[TreeEntry]:
    return sorted(entries, key=_sort_key)


@dataclass(frozen=True, slots=True)
class Signature:
    """Author or committer line: name, email and a time with its UTC offset."""

    name: str
    email: str
    when: datetime

    def encode(self) -> str:
        offset = self.when.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign = "+" if minutes >= 0 else "-"
        minutes = abs(minutes)
        # git forbids these characters inside the name and email fields.
        name = self.name.replace("<", "").replace(">", "").replace("\n", " ").strip()
        email = self.email.replace("<", "").replace(">", "").replace("\n", "").strip()
        return f"{name} <{email}> {int(self.when.timestamp())} {sign}{minutes // 60:02d}{minutes % 60:02d}"


def commit_body(*, tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str) -> bytes:
    lines = [f"tree {tree}"]
    lines += [f"parent {parent}" for parent in parents]
    lines.append(f"author {author.encode()}")
    lines.append(f"committer {committer.encode()}")
    text = "\n".join(lines) + "\n\n" + message
    if not message.endswith("\n"):
        text += "\n"
    return text.encode()


def commit_oid(*, tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str) -> str:
    return object_id(
        "commit", commit_body(tree=tree, parents=parents, author=author, committer=committer, message=message)
    )


def commit_message(summary: str, description: str = "") -> str:
    """A git commit message from the HF client's summary and description."""
    summary = summary.strip() or "Update files"
    description = description.strip()
    return f"{summary}\n\n{description}\n" if description else f"{summary}\n"


def lfs_pointer(*, sha256: str, size: int) -> bytes:
    """The git-lfs pointer file stored in the tree in place of an LFS file's content."""
    return f"version {LFS_POINTER_VERSION}\noid sha256:{sha256}\nsize {size}\n".encode()


LFS_POINTER_MAX_BYTES = 200


def lfs_pointer_parse(data: bytes) -> tuple[str, int] | None:
    """``(sha256, size)`` when ``data`` is an LFS pointer exactly as :func:`lfs_pointer` writes it
    (the form git-lfs writes too), else None: the tree then holds that content as a regular file."""
    if len(data) > LFS_POINTER_MAX_BYTES or not data.startswith(b"version "):
        return None
    lines = data.split(b"\n")
    if len(lines) != 4 or lines[3] != b"":
        return None
    if not lines[1].startswith(b"oid sha256:") or not lines[2].startswith(b"size "):
        return None
    sha256 = lines[1][len(b"oid sha256:") :].decode("ascii", "replace")
    size_text = lines[2][len(b"size ") :]
    if len(sha256) != 64 or sha256.strip("0123456789abcdef") or not size_text.isdigit():
        return None
    size = int(size_text)
    return (sha256, size) if lfs_pointer(sha256=sha256, size=size) == data else None
