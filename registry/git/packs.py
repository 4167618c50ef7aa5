"""Pushed packs: receiving one to a file, reading its objects, parsing commits and trees strictly.

Pure functions over ``dulwich``'s pack code (no database). A pushed tree is accepted only in git's
canonical form — its entries must encode back to its exact bytes — because the hub stores trees
as entries and must serve them again under the same ids; commits are kept byte for byte.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from dulwich.errors import ChecksumMismatch, ObjectFormatException
from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.objects import Commit
from dulwich.pack import (
    PackData,
    PackStreamCopier,
    UnpackedObjectIterator,
    UnresolvedDeltas,
    pack_header_chunks,
    pack_object_header,
)

from registry.git.objects import MODE_EXECUTABLE, MODE_FILE, TreeEntry

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


def pack_receive(
    *, read: Callable[[int], bytes], read_some: Callable[[int], bytes] | None, out: BinaryIO, max_bytes: int
) -> None:
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


# Level 1 compresses text and trees nearly as well as git's default, several times faster; the
# client stores what it receives as it likes.
PACK_COMPRESSION = 1


def _deflate(body: bytes) -> bytes:
    """zlib data of ``body``. Most git objects are small, and zlib's default state (a 32 KiB window,
    256 KiB of buffers) costs more to set up than compressing them: size both to the object."""
    if len(body) >= 65536:
        return zlib.compress(body, PACK_COMPRESSION)
    compressor = zlib.compressobj(PACK_COMPRESSION, zlib.DEFLATED, max(9, len(body).bit_length() + 1), 1)
    return compressor.compress(body) + compressor.flush()


def pack_entry(type_num: int, body: bytes) -> bytes:
    """One object as a pack holds it whole: its type-and-size header, then its zlib data. Stored
    beside trees and commits when they are written, so a pack copies them instead of compressing."""
    return bytes(pack_object_header(type_num, None, len(body), DEFAULT_OBJECT_FORMAT)) + _deflate(body)


def pack_write_entries(entries: Iterable[bytes], *, count: int, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """A pack of ``count`` objects given as :func:`pack_entry` bytes, in pieces of about
    ``chunk_size`` bytes: the header, the entries as they are, the trailing checksum."""
    digest = hashlib.sha1()
    buffer = bytearray(b"".join(pack_header_chunks(count)))
    written = 0
    for entry in entries:
        buffer += entry
        written += 1
        if len(buffer) >= chunk_size:
            digest.update(buffer)
            yield bytes(buffer)
            buffer.clear()
    if written != count:
        raise ValueError(f"The pack announced {count} objects and holds {written}.")
    digest.update(buffer)
    buffer += digest.digest()
    yield bytes(buffer)


def pack_write(objects: Iterable[tuple[int, bytes]], *, count: int, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """A pack of ``count`` whole objects (``(type, body)``), in pieces of about ``chunk_size`` bytes.

    No deltas: producing them costs more time than the bytes they save on a fast link, and
    ``dulwich``'s own writer spends most of its time per object, not per byte.
    """
    return pack_write_entries(
        (pack_entry(type_num, body) for type_num, body in objects), count=count, chunk_size=chunk_size
    )


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


_TREE_MODES = frozenset({b"100644", b"100755", b"40000", b"120000", b"160000"})


def tree_parse(oid: str, raw: bytes) -> list[TreeEntry]:
    """A pushed tree's entries, checked as ``git fsck`` checks trees: known modes written without
    leading zeros, names that are UTF-8, non-empty and slash-free, no duplicates, git's order —
    so the entries encode back to exactly ``raw`` (the hub stores trees as entries)."""
    entries = []
    previous, names = b"", set()
    position, end = 0, len(raw)
    while position < end:
        space = raw.find(b" ", position)
        nul = raw.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 21 > end:
            raise PackError(f"Tree {oid} is malformed: a truncated entry.")
        mode, name = raw[position:space], raw[space + 1 : nul]
        if mode not in _TREE_MODES:
            raise PackError(f"Tree {oid} has an entry with mode {mode.decode('ascii', 'replace')}.")
        if not name or b"/" in name or name in {b".", b".."}:
            raise PackError(f"Tree {oid} has an invalid entry name {name!r}.")
        key = name + b"/" if mode == b"40000" else name
        if key <= previous or name in names:
            raise PackError(f"Tree {oid} is not in git's canonical order or names {name!r} twice.")
        previous = key
        names.add(name)
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            raise PackError(f"Tree {oid} has a file name that is not UTF-8: {name!r}") from None
        entries.append(TreeEntry(mode=mode.decode(), name=text, oid=raw[nul + 1 : nul + 21].hex()))
        position = nul + 21
    return entries


FILE_MODES = frozenset({MODE_FILE, MODE_EXECUTABLE})
