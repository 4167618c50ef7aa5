"""``.gitignore``: which paths an upload skips (the Hub's ``shouldIgnore`` in preupload answers)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.git.attributes import pattern_regex


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern
    negated: bool
    folders_only: bool


class GitIgnore:
    """The rules of one root ``.gitignore``, with git's semantics: the last matching line wins,
    ``!`` re-includes, a trailing ``/`` matches folders only, and nothing inside an ignored folder
    can be re-included."""

    def __init__(self, text: str) -> None:
        self.rules: list[_Rule] = []
        for raw in text.splitlines():
            line = raw.rstrip()
            if raw.endswith("\\ "):
                line += " "
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated or line.startswith("\\!") or line.startswith("\\#"):
                line = line[1:]
            folders_only = line.endswith("/")
            pattern = line.rstrip("/")
            if pattern:
                self.rules.append(_Rule(regex=pattern_regex(pattern), negated=negated, folders_only=folders_only))

    @classmethod
    def from_bytes(cls, data: bytes) -> GitIgnore:
        return cls(data.decode("utf-8", "replace"))

    def _matches(self, path: str, *, folder: bool) -> bool:
        ignored = False
        for rule in self.rules:
            if (folder or not rule.folders_only) and rule.regex.match(path):
                ignored = not rule.negated
        return ignored

    def is_ignored(self, path: str) -> bool:
        if not self.rules:
            return False
        segments = path.split("/")
        for count in range(1, len(segments)):
            if self._matches("/".join(segments[:count]), folder=True):
                return True
        return self._matches(path, folder=False)
