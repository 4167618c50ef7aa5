"""The public types of the commit-body decoder: the error, the content-sink protocol and the lines.

A yielded line is one of the frozen records below (``CommitLine``); ``LINE_KEYS`` are the values of
``key`` that name them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class CommitPayloadError(ValueError):
    """The commit body is not a valid payload; ``line`` is the 1-based physical line at fault."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ContentSink(Protocol):
    """Receives the decoded bytes of one ``file`` line.

    ``write`` is called with each decoded piece, in order. Exactly one of ``finish`` or ``abort``
    follows: ``finish`` once the whole line has been read and checked, returning the handle the
    yielded :class:`FileLine` carries; ``abort`` on any error (also after a ``finish`` that
    raised), and must remove whatever the sink staged.
    """

    def write(self, data: bytes) -> object: ...

    def finish(self) -> Any: ...

    def abort(self) -> None: ...


# Called with the line's ``path`` when it came before ``content`` in the object, else ``None``.
ContentSinkFactory = Callable[[str | None], ContentSink]


@dataclass(frozen=True, slots=True)
class HeaderLine:
    """``{"key": "header"}``: the commit message; always the first line."""

    summary: str
    description: str
    parent_commit: str | None


@dataclass(frozen=True, slots=True)
class FileLine:
    """``{"key": "file"}``: a regular file whose content went to a sink; ``size`` is decoded bytes."""

    path: str
    content_handle: Any
    size: int


@dataclass(frozen=True, slots=True)
class LfsFileLine:
    """``{"key": "lfsFile"}``: a file already uploaded out of band; ``size`` is absent for copies."""

    path: str
    oid: str
    size: int | None
    algo: str


@dataclass(frozen=True, slots=True)
class DeletedFileLine:
    """``{"key": "deletedFile"}``."""

    path: str


@dataclass(frozen=True, slots=True)
class DeletedFolderLine:
    """``{"key": "deletedFolder"}``: the path may or may not end with ``/``."""

    path: str


CommitLine = HeaderLine | FileLine | LfsFileLine | DeletedFileLine | DeletedFolderLine

LINE_KEYS = frozenset({"header", "file", "lfsFile", "deletedFile", "deletedFolder"})
