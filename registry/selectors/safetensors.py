"""Summaries of safetensors files read from their header alone.

A safetensors file starts with an 8-byte little-endian header length, then that many bytes of
JSON: ``{"name": {"dtype", "shape", "data_offsets"}, …, "__metadata__": {str: str}}``. Only the
header is read, so a summary of a multi-gigabyte file costs one small read; summaries are cached
by the file's sha256 (content never changes under a hash).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

from django.core.cache import cache

from registry.models import blob_storage_key
from registry.storage import blob_storage
from registry.trees import FileInfo

# Headers larger than this are not summarised (the format allows up to 100 MB; real ones are KBs).
MAX_HEADER_BYTES = 16 * 1024 * 1024
CACHE_SECONDS = 24 * 3600
DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip


class SafetensorsError(ValueError):
    """The file is not a safetensors file this page can summarise; the message says why."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def parameters(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class SafetensorsSummary:
    tensors: tuple[TensorInfo, ...]  # sorted by name
    metadata: dict[str, str]
    header_size: int

    @property
    def parameters(self) -> int:
        return sum(tensor.parameters for tensor in self.tensors)

    @property
    def parameters_by_dtype(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for tensor in self.tensors:
            totals[tensor.dtype] = totals.get(tensor.dtype, 0) + tensor.parameters
        return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def _parse(header: bytes, *, file_size: int) -> SafetensorsSummary:
    try:
        document = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SafetensorsError(f"The header is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise SafetensorsError("The header is not a JSON object.")
    metadata = document.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError("__metadata__ must map strings to strings.")
    data_size = file_size - 8 - len(header)
    tensors = []
    for name, entry in document.items():
        if not isinstance(entry, dict):
            raise SafetensorsError(f"Tensor {name!r} is not described by an object.")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str) or not dtype:
            raise SafetensorsError(f"Tensor {name!r} has no dtype.")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise SafetensorsError(f"Tensor {name!r} has an invalid shape.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size
        ):
            raise SafetensorsError(f"Tensor {name!r} has data offsets outside the file.")
        # Sizes are checked for the dtypes known here; newer (sub-byte) dtypes are listed as they are.
        if dtype in DTYPE_BYTES and offsets[1] - offsets[0] != math.prod(shape) * DTYPE_BYTES[dtype]:
            raise SafetensorsError(f"Tensor {name!r} holds {offsets[1] - offsets[0]} bytes, not what its shape needs.")
        tensors.append(TensorInfo(name=name, dtype=dtype, shape=tuple(shape)))
    tensors.sort(key=lambda tensor: tensor.name)
    return SafetensorsSummary(tensors=tuple(tensors), metadata=metadata, header_size=len(header))


def safetensors_summary(*, file: FileInfo) -> SafetensorsSummary:
    """The tensors of ``file`` with dtypes, shapes and parameter counts.

    Raises ``SafetensorsError`` for a file that is not valid safetensors or whose header exceeds
    ``MAX_HEADER_BYTES``.
    """
    key = f"safetensors:{file.sha256}"
    summary = cache.get(key)
    if summary is not None:
        return summary
    if file.size < 8:
        raise SafetensorsError("The file is shorter than a safetensors header.")
    with blob_storage().open(blob_storage_key(file.sha256), "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > MAX_HEADER_BYTES:
            raise SafetensorsError(f"The header is {length} bytes, more than this page reads.")
        if length > file.size - 8:
            raise SafetensorsError("The header length runs past the end of the file.")
        header = handle.read(length)
    summary = _parse(header, file_size=file.size)
    cache.set(key, summary, CACHE_SECONDS)
    return summary


def safetensors_parameter_total(*, files: list[FileInfo]) -> int | None:
    """Parameters across ``files`` (e.g. the shards of one model); None if none can be read."""
    total, readable = 0, False
    for info in files:
        try:
            total += safetensors_summary(file=info).parameters
            readable = True
        except SafetensorsError:
            continue
    return total if readable else None
