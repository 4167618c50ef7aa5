"""Local dataset snapshots: where they live, pin checks, and document loaders.

A snapshot is a directory (a checkout of a dataset repository). Task specs name files relative to
it with a sha256 each; a file is read once, hashed, and parsed from the same bytes, so what is
scored is exactly what was checked. The shipped suites read ``../shared/data`` next to the
repository unless ``HUB_SHARED_DATA`` or an explicit directory says otherwise.
"""

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.harness.errors import DatasetError, DatasetPinError
from evals.harness.spec import DataFile, DatasetSpec

DATA_ROOT_ENV = "HUB_SHARED_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]

_WIKITEXT_TITLE_RE = re.compile(r"^= (.+) =$")


@dataclass(frozen=True)
class Item:
    """One document of a split and its id (unique within the split)."""

    id: int | str
    doc: Mapping[str, Any]


def default_data_root() -> Path:
    """``$HUB_SHARED_DATA`` if set, else ``<repo>/../shared/data``."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def resolve_data_root(explicit: str | Path | None = None) -> Path:
    root = Path(explicit) if explicit is not None else default_data_root()
    if not root.is_dir():
        raise DatasetError(f"dataset directory {root} does not exist (set --data-dir or ${DATA_ROOT_ENV})")
    return root


def read_pinned(root: Path, data_file: DataFile) -> bytes:
    """The file's bytes, after checking them against the pinned sha256."""
    path = root / data_file.path
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"dataset file {path} does not exist") from None
    except OSError as exc:
        raise DatasetError(f"cannot read dataset file {path}: {exc.strerror}") from None
    actual = hashlib.sha256(content).hexdigest()
    if actual != data_file.sha256:
        raise DatasetPinError(
            f"dataset file {path} has sha256 {actual}, but the task pins {data_file.sha256}; "
            "the snapshot differs from the one the task was written for"
        )
    return content


def load_split(root: Path, dataset: DatasetSpec, split: str) -> list[Item]:
    """Verify and parse one split into items, in file order."""
    data_file = dataset.splits[split]
    content = read_pinned(root, data_file)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{data_file.path}: not UTF-8 (byte {exc.start})") from None
    if dataset.format == "jsonl":
        docs = _parse_jsonl(text, data_file.path)
    else:
        docs = _parse_wikitext(text, data_file.path)
    return _with_ids(docs, dataset.id_field, data_file.path)


def _parse_jsonl(text: str, where: str) -> list[dict[str, Any]]:
    docs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}:{number}: invalid JSON: {exc.msg}") from None
        if not isinstance(doc, dict):
            raise DatasetError(f"{where}:{number}: each line must be a JSON object")
        docs.append(doc)
    return docs


def _parse_wikitext(text: str, where: str) -> list[dict[str, Any]]:
    """Articles separated by a blank line, each starting with a `` = Title = `` line.

    The document text is the article without its surrounding whitespace (the title line's leading
    space and the final newline), so that whitespace-split word counts are unambiguous: counting
    with ``str.split`` or ``re.split(r"\\s+")`` gives the same number.
    """
    docs = []
    for block in text.split("\n\n"):
        article = block.strip()
        if not article:
            continue
        match = _WIKITEXT_TITLE_RE.match(article.split("\n", 1)[0].strip())
        if match is None:
            raise DatasetError(f"{where}: article {len(docs)} does not start with a ' = Title = ' line")
        docs.append({"id": len(docs), "title": match.group(1), "text": article})
    return docs


def _with_ids(docs: list[dict[str, Any]], id_field: str | None, where: str) -> list[Item]:
    items = []
    seen: set[int | str] = set()
    for position, doc in enumerate(docs):
        if id_field is None:
            item_id: Any = position
        else:
            if id_field not in doc:
                raise DatasetError(f"{where}: document {position} has no id field {id_field!r}")
            item_id = doc[id_field]
            if not isinstance(item_id, int | str) or isinstance(item_id, bool):
                raise DatasetError(f"{where}: document {position}: id must be an integer or a string")
        if item_id in seen:
            raise DatasetError(f"{where}: duplicate item id {item_id!r}")
        seen.add(item_id)
        items.append(Item(id=item_id, doc=doc))
    return items
