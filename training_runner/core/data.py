"""Training data from a local directory (a dataset repository snapshot).

- Readers for ``.txt`` (documents split by blank lines, by line, or one per file), ``.jsonl`` and
  ``.parquet`` files; the split of a file comes from its name or folder (``train``, ``validation`` /
  ``valid`` / ``val`` / ``dev``, ``test``; a file naming none is training data).
- A validation split carved from the training documents by content hash when the snapshot has
  no validation files (the same document always lands on the same side).
- Tokenization into safetensors shards of int32 ids, cached under a fingerprint of the sources,
  the tokenizer and the settings.
- Sequence packing: fixed windows over the concatenated token stream.
- Deterministic order: a permutation per epoch drawn from (seed, epoch); the position (epoch,
  index) goes into checkpoints, so a resumed run reads exactly the batches it would have read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .errors import ConfigError
from .tokenizer import Tokenizer

SUFFIXES = (".txt", ".jsonl", ".parquet")
TXT_MODES = ("blank_line", "line", "file")
SPLIT_ALIASES = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev"),
    "test": ("test", "testing"),
}
TOKENS_PER_SHARD = 1 << 22


# ----------------------------------------------------------------------------- reading


def split_of(relative: Path) -> str:
    """The split a file belongs to, from the leading word of its name or of a folder above it."""
    for part in reversed(relative.with_suffix("").parts):
        match = re.match(r"[a-z]+", part.lower())
        word = match.group(0) if match else ""
        for split, aliases in SPLIT_ALIASES.items():
            if word in aliases:
                return split
    return "train"


def data_files(root: str | Path, split: str) -> list[Path]:
    """Readable files of ``split`` under ``root``, in sorted order (hidden files skipped)."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError("data.path", f"{str(root)!r} is not a directory")
    readable = (
        path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.suffix in SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )
    return [path for path in readable if split_of(path.relative_to(root)) == split]


def read_records(path: Path, *, txt_mode: str = "blank_line") -> Iterator[dict]:
    """Records of one file: ``{"text": ...}`` per document for text files, the rows otherwise."""
    if path.suffix == ".txt":
        text = path.read_text(encoding="utf-8")
        if txt_mode == "file":
            docs = [text]
        elif txt_mode == "line":
            docs = text.splitlines()
        else:
            docs = re.split(r"\n\s*\n", text)
        yield from ({"text": d.strip("\n")} for d in docs if d.strip())
    elif path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
    else:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            yield from batch.to_pylist()


def iter_records(files: Iterable[Path], *, txt_mode: str = "blank_line") -> Iterator[dict]:
    for path in files:
        yield from read_records(path, txt_mode=txt_mode)


def record_field(record: dict, field: str, where: str):
    if field not in record:
        raise ConfigError(where, f"field {field!r} is not in the data; the records have {sorted(record)}")
    return record[field]


def in_validation(text: str, fraction: float) -> bool:
    """Deterministic hold-out by content: the same text is always on the same side."""
    bucket = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % 1_000_000
    return bucket < fraction * 1_000_000


def split_records(root: Path, *, val_fraction: float, txt_mode: str, key: str = "text") -> dict[str, list[dict]]:
    """Train and validation records: the snapshot's own validation files, else a hashed hold-out."""
    train = list(iter_records(data_files(root, "train"), txt_mode=txt_mode))
    val_files = data_files(root, "validation")
    if val_files:
        return {"train": train, "validation": list(iter_records(val_files, txt_mode=txt_mode))}
    if not train:
        raise ConfigError("data.path", f"no {', '.join(SUFFIXES)} training files under {str(root)!r}")
    held = [in_validation(json.dumps(r.get(key, r), sort_keys=True), val_fraction) for r in train]
    return {
        "train": [r for r, h in zip(train, held, strict=True) if not h],
        "validation": [r for r, h in zip(train, held, strict=True) if h],
    }


def files_fingerprint(root: Path) -> str:
    """Identity of a snapshot's readable files: relative path, size and modification time."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file() and p.suffix in SUFFIXES):
        stat = path.stat()
        h.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- token shards


@dataclass
class TokenStream:
    """A token stream stored as safetensors shards (``tokens``: int32), read lazily by slice."""

    files: list[Path]
    lengths: list[int]
    num_documents: int
    num_bytes: int

    def __post_init__(self) -> None:
        self._handles = [safe_open(str(f), framework="pt") for f in self.files]
        self._starts = [0]
        for n in self.lengths:
            self._starts.append(self._starts[-1] + n)

    def __len__(self) -> int:
        return self._starts[-1]

    def slice(self, start: int, end: int) -> torch.Tensor:
        """Tokens [start, end) as int64, across shard boundaries."""
        parts = []
        for shard, handle in enumerate(self._handles):
            lo, hi = self._starts[shard], self._starts[shard + 1]
            if hi <= start or lo >= end:
                continue
            parts.append(handle.get_slice("tokens")[max(start, lo) - lo : min(end, hi) - lo])
        return torch.cat(parts).long() if len(parts) > 1 else parts[0].long()


def build_token_stream(
    texts: Iterable[str],
    tokenizer: Tokenizer,
    directory: Path,
    *,
    fingerprint: str,
    separator_id: int | None,
    prefix_id: int | None = None,
    tokens_per_shard: int = TOKENS_PER_SHARD,
) -> TokenStream:
    """Tokenize documents into shards under ``directory`` (reused when the fingerprint matches).

    Each document becomes ``[prefix_id] + ids + [separator_id]`` (either may be None), then all
    are concatenated. ``num_bytes`` counts the UTF-8 bytes of the documents.
    """
    directory.mkdir(parents=True, exist_ok=True)
    index_path = directory / "index.json"
    if index_path.exists():
        index = json.loads(index_path.read_text())
        if index["fingerprint"] == fingerprint:
            return TokenStream([directory / f for f in index["files"]], index["lengths"], index["docs"], index["bytes"])
    files, lengths, buffer = [], [], []
    num_docs = num_bytes = 0

    def flush() -> None:
        name = f"shard-{len(files):05d}.safetensors"
        save_file({"tokens": torch.tensor(buffer, dtype=torch.int32)}, directory / name)
        files.append(name)
        lengths.append(len(buffer))
        buffer.clear()

    batch: list[str] = []
    for text in [*texts, None]:  # None flushes the last batch
        if text is not None:
            batch.append(text)
        if len(batch) == 256 or (text is None and batch):
            for ids in tokenizer.encode_batch(batch):
                buffer.extend(([prefix_id] if prefix_id is not None else []) + ids)
                buffer.extend([separator_id] if separator_id is not None else [])
            num_docs += len(batch)
            num_bytes += sum(len(t.encode("utf-8")) for t in batch)
            batch = []
            while len(buffer) >= tokens_per_shard:
                rest = buffer[tokens_per_shard:]
                del buffer[tokens_per_shard:]
                flush()
                buffer.extend(rest)
    if buffer or not files:
        flush()
    index = {"fingerprint": fingerprint, "files": files, "lengths": lengths, "docs": num_docs, "bytes": num_bytes}
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    return TokenStream([directory / f for f in files], lengths, num_docs, num_bytes)


class PackedWindows:
    """Item i is tokens [i·stride, i·stride + length) of a stream: sequence packing without padding.

    Causal LM: ``length = T + 1, stride = T`` (inputs and shifted targets share T tokens).
    """

    def __init__(self, stream: TokenStream, *, length: int, stride: int) -> None:
        self.stream, self.length, self.stride = stream, length, stride

    def __len__(self) -> int:
        return max(0, (len(self.stream) - self.length) // self.stride + 1)

    def __getitem__(self, i: int) -> torch.Tensor:
        start = i * self.stride
        return self.stream.slice(start, start + self.length)

    def batch(self, indices: list[int]) -> torch.Tensor:
        return torch.stack([self[i] for i in indices])  # (B, length)


# ----------------------------------------------------------------------------- order


class ShuffledBatches:
    """Deterministic batches of item indices, and the data position for checkpoints.

    Epoch e reads ``randperm(n, seed + e)`` in slices of ``batch_size × world_size`` (an incomplete
    last slice is dropped); rank r takes its own ``batch_size`` part of each slice.
    """

    def __init__(
        self, num_items: int, batch_size: int, *, seed: int, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ) -> None:
        self.global_batch = batch_size * world_size
        if num_items < self.global_batch:
            raise ValueError(f"{num_items} items cannot fill one batch of {batch_size} × {world_size} ranks")
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed
        self.shuffle, self.rank = shuffle, rank
        self.epoch = self.index = 0
        self._order: list[int] | None = None

    def _epoch_order(self) -> list[int]:
        if self._order is None:
            if self.shuffle:
                generator = torch.Generator().manual_seed(self.seed + self.epoch)
                self._order = torch.randperm(self.num_items, generator=generator).tolist()
            else:
                self._order = list(range(self.num_items))
        return self._order

    def next(self) -> list[int]:
        if self.index + self.global_batch > self.num_items:
            self.epoch, self.index, self._order = self.epoch + 1, 0, None
        start = self.index + self.rank * self.batch_size
        indices = self._epoch_order()[start : start + self.batch_size]
        self.index += self.global_batch
        return indices

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.index, self._order = state["epoch"], state["index"], None


def eval_batches(num_items: int, batch_size: int, *, max_batches: int, rank: int = 0, world_size: int = 1):
    """Validation batches in a fixed order, at most ``max_batches`` per rank (0: all), disjoint across ranks."""
    starts = range(rank * batch_size, num_items, batch_size * world_size)
    for count, start in enumerate(starts):
        if max_batches and count >= max_batches:
            return
        yield list(range(start, min(start + batch_size, num_items)))


def pad_sequences(seqs: list[list[int]], pad_id: int, *, fill: int | None = None) -> torch.Tensor:
    """Right-pad to the longest sequence: (B, T_max). ``fill`` overrides the pad value (e.g. -100)."""
    width = max(len(s) for s in seqs)
    value = pad_id if fill is None else fill
    return torch.tensor([list(s) + [value] * (width - len(s)) for s in seqs], dtype=torch.long)
