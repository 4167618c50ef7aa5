"""Paths inside a repository: one validation for every surface (HF API, REST, browser uploads)."""

from __future__ import annotations

from common.errors import Unprocessable

MAX_PATH_BYTES = 4096
# Bidirectional controls reorder what a name shows: "\u202etxt.exe" displays as "exe.txt".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class InvalidPath(Unprocessable):
    code = "invalid_path"


def path_validate(path: object, *, allow_root: bool = False) -> str:
    """Return ``path`` if it is a clean relative path, else raise ``InvalidPath`` (HTTP 422).

    Refused: absolute paths, backslashes (``..\\x`` is a traversal on Windows clients), empty,
    ``.`` and ``..`` segments, ``.git`` segments, control characters, bidirectional controls,
    names with leading or trailing spaces (which look like another file) and over-long paths.
    """
    if not isinstance(path, str):
        raise InvalidPath("A path must be a string.")
    if path == "" and allow_root:
        return ""
    if path == "":
        raise InvalidPath("A path may not be empty.")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidPath(f"The path is longer than {MAX_PATH_BYTES} bytes.")
    if "\\" in path:
        raise InvalidPath(
            f"Invalid path '{path}': backslashes are not allowed in paths on this hub (unlike huggingface.co), "
            "because Windows clients read them as separators ('..\\x' escapes the folder); use '/'."
        )
    if path.startswith("/"):
        raise InvalidPath(f"Invalid path '{path}': paths are relative to the repository root.")
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise InvalidPath(f"Invalid path {path!r}: control characters are not allowed.")
    if any(char in BIDI_CONTROLS for char in path):
        raise InvalidPath(
            f"Invalid path {path!r}: bidirectional control characters (such as U+202E) would display "
            "the name in a misleading order."
        )
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPath(f"Invalid path {path!r}: not valid UTF-8.") from None
    for segment in path.split("/"):
        if segment == "":
            raise InvalidPath(f"Invalid path '{path}': empty path segment.")
        if segment in {".", ".."}:
            raise InvalidPath(f"Invalid path '{path}': '{segment}' segments are not allowed.")
        if segment.lower() == ".git":
            raise InvalidPath(f"Invalid path '{path}': '.git' is reserved.")
        if segment != segment.strip(" "):
            raise InvalidPath(f"Invalid path {path!r}: a name may not start or end with a space.")
    return path


def folder_validate(path: object) -> str:
    """A folder path as the HF client sends it for ``deletedFolder`` (a trailing ``/`` is allowed)."""
    if isinstance(path, str) and path.endswith("/"):
        path = path[:-1]
    return path_validate(path)
