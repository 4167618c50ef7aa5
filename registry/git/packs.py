"""Pushed packs: receiving one to a file, reading its objects, parsing commits and trees strictly.

Pure functions over ``dulwich``'s pack code (no database). A pushed object is accepted only in
git's canonical form — re-encoding a tree must give back its exact bytes — because the hub stores
trees as entries and commits as rows and must serve them again under the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from dulwich.errors import ChecksumMismatch, ObjectFormatException
from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.objects import Commit, Tree
from dulwich.pack import PackData, PackStreamCopier, UnpackedObjectIterator, UnresolvedDeltas

from registry.git.objects import MODE_EXECUTABLE, MODE_FILE, MODE_TREE, TreeEntry, tree_body

COMMIT, TREE, BLOB, TAG = 1, 2, 3, 4
MODE_SYMLINK, MODE_SUBMODULE = "120000", "160000"
_IDENTITY = re.compile(rb"^(?P<name>[^<>]*?) ?<(?P<email>[^<>]*)>$")


class PackError(ValueError):
    """A pushed pack, or an object in it, that cannot be accepted; the message says why."""


@dataclass(frozen=True, slots=True)
class PushedCommit:
    """A commit object of a pushed pack, parsed; ``raw`` is its exact body."""

    oid: str
    raw: bytes
    tree: str
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    authored_at: datetime

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]


def pack_receive(*, read: Callable[[int], bytes], read_some: Callable[[int], bytes] | None, out: BinaryIO,
                 max_bytes: int) -> None:  # fmt: skip
    """Copy a pack from the wire to ``out``, checking its trailing checksum; at most ``max_bytes``."""
    received = 0

    def counted(reader: Callable[[int], bytes]) -> Callable[[int], bytes]:
        def wrapper(size: int) -> bytes:
            nonlocal received
            data = reader(size)
            received += len(data)
            if received > max_bytes:
                raise PackError(f"The pushed pack is larger than {max_bytes} bytes.")
            return data

        return wrapper

    copier = PackStreamCopier(
        DEFAULT_OBJECT_FORMAT.hash_func, counted(read), counted(read_some) if read_some else None, out
    )
    try:
        copier.verify()
    except (ChecksumMismatch, ObjectFormatException, AssertionError, OSError, ValueError) as error:
        if isinstance(error, PackError):
            raise
        raise PackError(f"The pushed pack is corrupt: {error}") from None


def pack_objects(path: Path) -> Iterator[tuple[int, str, list[bytes]]]:
    """``(type, oid, chunks)`` of each object of the pack at ``path``, deltas resolved; a delta
    whose base is not in the pack (a thin pack) is refused."""
    data = PackData(path, DEFAULT_OBJECT_FORMAT)
    try:
        for unpacked in UnpackedObjectIterator.for_pack_data(data):
            yield unpacked.obj_type_num, unpacked.sha().hex(), unpacked.obj_chunks
    except UnresolvedDeltas as error:
        raise PackError(f"The pack refers to objects it does not carry: {error}") from None
    except (ObjectFormatException, AssertionError, ValueError) as error:
        raise PackError(f"The pushed pack is corrupt: {error}") from None
    finally:
        data.close()


def _text(value: bytes, encoding: str = "utf-8") -> str:
    return value.decode(encoding, "replace")


def commit_parse(oid: str, raw: bytes) -> PushedCommit:
    """A pushed commit object, checked as ``git fsck`` checks one."""
    commit = Commit.from_raw_string(Commit.type_num, raw, sha=oid.encode())
    try:
        commit.check()
    except ObjectFormatException as error:
        raise PackError(f"Commit {oid} is malformed: {error}") from None
    encoding = _text(commit.encoding) if commit.encoding else "utf-8"
    try:
        message = commit.message.decode(encoding, "replace")
    except LookupError:
        message = _text(commit.message)
    identity = _IDENTITY.match(commit.author)
    name, email = (_text(identity["name"]), _text(identity["email"])) if identity else (_text(commit.author), "")
    offset = timezone(timedelta(seconds=commit.author_timezone))
    return PushedCommit(
        oid=oid,
        raw=raw,
        tree=commit.tree.decode(),
        parents=tuple(parent.decode() for parent in commit.parents),
        message=message,
        author_name=name[:150],
        author_email=email[:254],
        authored_at=datetime.fromtimestamp(commit.author_time, offset).astimezone(UTC),
    )


def tree_parse(oid: str, raw: bytes) -> list[TreeEntry]:
    """A pushed tree's entries in git order. Names must be UTF-8; the tree must be canonical (its
    entries re-encoded give back its bytes: no zero-padded modes, no duplicates, git's order)."""
    tree = Tree.from_raw_string(Tree.type_num, raw, sha=oid.encode())
    try:
        tree.check()
    except ObjectFormatException as error:
        raise PackError(f"Tree {oid} is malformed: {error}") from None
    entries = []
    for item in tree.iteritems():
        try:
            name = item.path.decode("utf-8")
        except UnicodeDecodeError:
            raise PackError(f"Tree {oid} has a file name that is not UTF-8: {item.path!r}") from None
        entries.append(TreeEntry(mode=f"{item.mode:o}", name=name, oid=item.sha.decode()))
    if tree_body(entries) != raw:
        raise PackError(f"Tree {oid} is not in git's canonical form.")
    return entries


def blob_digests(chunks: list[bytes]) -> tuple[str, int]:
    """``(sha256, size)`` of a blob's content."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


FILE_MODES = frozenset({MODE_FILE, MODE_EXECUTABLE})
TREE_MODE = MODE_TREE
