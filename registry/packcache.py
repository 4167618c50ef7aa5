"""Packs of whole clones, kept on the web node's disk and sent again as they are.

A clone (a fetch with no ``have`` lines and no shallow boundary) of the same wanted commits always
gets the same objects: commit ids fix everything reachable from them. Planning and writing such a
pack is most of a clone's time, so the first clone of a repository's refs leaves its pack here
and later clones of the same refs stream the file. Wants are checked against the advertised refs
before the cache is consulted, so a pack is only ever sent for commits the caller may fetch now.

Files: ``HUB_GIT_PACK_CACHE_DIR/<repo pk>/<key>.pack``, written to a temporary name and renamed
when the pack is complete (a client that goes away mid-clone leaves nothing). Each repository keeps
its newest ``HUB_GIT_PACK_CACHE_PER_REPO`` packs, the folder at most ``HUB_GIT_PACK_CACHE_BYTES``
(oldest first out); a pack larger than a quarter of that is not kept. Deleting a repository or
rewriting its history empties its folder. ``HUB_GIT_PACK_CACHE_BYTES=0`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

READ_CHUNK = 256 * 1024


@dataclass(frozen=True)
class CachedPack:
    """A complete pack on disk: ``count`` objects, header and trailer included."""

    path: Path
    count: int

    def chunks(self, size: int = READ_CHUNK) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            while chunk := handle.read(size):
                yield chunk


def _enabled() -> bool:
    return settings.HUB_GIT_PACK_CACHE_BYTES > 0


def _repo_dir(repo_pk: int) -> Path:
    return Path(settings.HUB_GIT_PACK_CACHE_DIR) / str(int(repo_pk))


def clone_key(wants: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(wants))).encode()).hexdigest()


def pack_cache_get(*, repo_pk: int, key: str) -> CachedPack | None:
    """The cached pack of ``key``, or None."""
    if not _enabled():
        return None
    path = _repo_dir(repo_pk) / f"{key}.pack"
    try:
        with path.open("rb") as handle:
            header = handle.read(12)
        os.utime(path)  # recently used: the last to go when the folder is trimmed
    except OSError:
        return None
    if len(header) != 12 or header[:4] != b"PACK":
        return None
    return CachedPack(path=path, count=int.from_bytes(header[8:12], "big"))


def pack_cache_tee(chunks: Iterable[bytes], *, repo_pk: int, key: str) -> Iterator[bytes]:
    """``chunks`` (a whole pack) passed through unchanged, written to the cache on the way; the file
    is kept only if every chunk went through and the pack stays under the size limit."""
    if not _enabled():
        yield from chunks
        return
    folder = _repo_dir(repo_pk)
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.HUB_GIT_PACK_CACHE_BYTES // 4
    keeping, written = True, 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".partial-", suffix=".pack", delete=False) as handle:
        temporary = Path(handle.name)
        try:
            for chunk in chunks:
                if keeping:
                    written += len(chunk)
                    keeping = written <= limit
                    if keeping:
                        handle.write(chunk)
                yield chunk
        except BaseException:
            keeping = False
            raise
        finally:
            if not keeping:
                temporary.unlink(missing_ok=True)
    if keeping:
        os.replace(temporary, folder / f"{key}.pack")
        _trim(folder)


def _packs(folder: Path) -> list[tuple[float, int, Path]]:
    found = []
    for path in folder.glob("*.pack"):
        if path.name.startswith(".partial-"):
            continue
        with contextlib.suppress(OSError):
            stat = path.stat()
            found.append((stat.st_mtime, stat.st_size, path))
    return sorted(found, reverse=True)


def _trim(folder: Path) -> None:
    """Keep the repository's newest packs, then the whole cache under its byte budget."""
    for _mtime, _size, path in _packs(folder)[settings.HUB_GIT_PACK_CACHE_PER_REPO :]:
        path.unlink(missing_ok=True)
    everything = sorted(
        (entry for repo_dir in Path(settings.HUB_GIT_PACK_CACHE_DIR).iterdir() if repo_dir.is_dir()
         for entry in _packs(repo_dir)),
        reverse=True,
    )  # fmt: skip
    total = 0
    for _mtime, size, path in everything:
        total += size
        if total > settings.HUB_GIT_PACK_CACHE_BYTES:
            path.unlink(missing_ok=True)


def pack_cache_purge(*, repo_pk: int) -> None:
    """Forget every cached pack of a repository (deleted, or its history rewritten)."""
    shutil.rmtree(_repo_dir(repo_pk), ignore_errors=True)
