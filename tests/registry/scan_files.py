"""Tiny files for the scanning tests, made on the spot: malicious pickles whose ``__reduce__`` would
run ``os.system`` to create a canary file, benign ``torch.save`` checkpoints, archive bombs."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import torch


class CanaryPayload:
    """Unpickling this runs ``touch <canary>``: the scanner must flag it without ever loading it."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


SYSTEM_IMPORT = f"{os.system.__module__}.system"


def malicious_pickle(canary: Path) -> bytes:
    return pickle.dumps({"weights": CanaryPayload(canary)}, protocol=4)


def torch_checkpoint(tensors: dict[str, torch.Tensor] | None = None) -> bytes:
    """A real ``torch.save`` file (the zip format)."""
    buffer = io.BytesIO()
    torch.save(tensors if tensors is not None else {"w": torch.arange(6.0).reshape(2, 3)}, buffer)
    return buffer.getvalue()


def malicious_torch_checkpoint(canary: Path) -> bytes:
    """A zip-based torch checkpoint whose ``data.pkl`` is replaced by the malicious pickle."""
    source = zipfile.ZipFile(io.BytesIO(torch_checkpoint()))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("/data.pkl"):
                data = pickle.dumps({"w": CanaryPayload(canary)}, protocol=2)
            target.writestr(info, data)
    return out.getvalue()


def zip_bomb(inflated: int = 40 * 1024 * 1024) -> bytes:
    """A member of ``inflated`` zero bytes, deflated to a few tens of kilobytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("model/data.pkl", b"\0" * inflated)
    return out.getvalue()
