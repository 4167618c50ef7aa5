"""Exact-length reads from file-like objects that may return short reads.

Request bodies (Django's ``LimitedStream``), sockets and object-store bodies may hand back fewer
bytes than asked for; every parser here goes through :func:`read_exact` so a short read is never
mistaken for the end of the data.
"""

from typing import BinaryIO

from .errors import XetFormatError


def read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at end of stream."""
    data = stream.read(size)
    if data is None:
        raise XetFormatError("non-blocking stream returned no data")
    if len(data) == size or not data:
        return bytes(data)
    parts = [data]
    missing = size - len(data)
    while missing:
        more = stream.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


def read_exact(stream: BinaryIO, size: int, what: str) -> bytes:
    """Read exactly ``size`` bytes or raise :class:`XetFormatError` naming ``what`` was truncated."""
    data = read_up_to(stream, size)
    if len(data) != size:
        raise XetFormatError(f"truncated {what}: expected {size} bytes, got {len(data)}")
    return data
