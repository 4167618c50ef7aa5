"""``.gitattributes``: which paths are LFS files (``filter=lfs``), with gitignore-style patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Patterns every new repository starts with: weights, archives and columnar data go to LFS.
DEFAULT_LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gguf", "*.gz", "*.h5", "*.joblib",
    "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet",
    "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*",
    "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
)  # fmt: skip


def default_gitattributes() -> bytes:
    lines = [f"{pattern} filter=lfs diff=lfs merge=lfs -text" for pattern in DEFAULT_LFS_PATTERNS]
    return ("\n".join(lines) + "\n").encode()


def _glob_to_regex(pattern: str) -> str:
    regex = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            regex.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("/**", index) and index + 3 == len(pattern):
            regex.append("/.*")
            index += 3
            continue
        if pattern.startswith("**", index):
            regex.append(".*")
            index += 2
            continue
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                regex.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                regex.append(f"[{body}]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            regex.append(re.escape(pattern[index]))
        else:
            regex.append(re.escape(char))
        index += 1
    return "".join(regex)


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern
    lfs: bool | None  # True: filter=lfs; False: unset/other filter; None: line says nothing about it


@lru_cache(maxsize=256)
def pattern_regex(pattern: str) -> re.Pattern:
    """A gitignore-style pattern as a regex over repository paths: anchored to the root when it
    holds a ``/`` before its end, else matching at any depth."""
    anchored = "/" in pattern.rstrip("/")
    body = _glob_to_regex(pattern.lstrip("/"))
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$")


class GitAttributes:
    """The LFS rules of one ``.gitattributes`` file; the last matching line wins, as in git."""

    def __init__(self, text: str) -> None:
        self.rules: list[_Rule] = []
        for raw_line in text.splitlines():
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            pattern, *attributes = line.split()
            if pattern.startswith("!"):
                continue  # negative patterns are forbidden in .gitattributes
            lfs: bool | None = None
            for attribute in attributes:
                if attribute == "filter=lfs":
                    lfs = True
                elif attribute in {"-filter", "!filter"} or attribute.startswith("filter="):
                    lfs = False
            if lfs is not None:
                self.rules.append(_Rule(regex=pattern_regex(pattern), lfs=lfs))

    @classmethod
    def from_bytes(cls, data: bytes | None) -> GitAttributes:
        return cls((data or b"").decode("utf-8", "replace"))

    def is_lfs(self, path: str) -> bool:
        verdict = False
        for rule in self.rules:
            if rule.regex.match(path):
                verdict = bool(rule.lfs)
        return verdict
