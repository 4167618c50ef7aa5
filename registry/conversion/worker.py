"""The sandboxed child: checkpoints in, safetensors files and a checksum report out.

Usage: ``python -m registry.conversion.worker JOB.json``. The job names the input files (already
copied into the child's folder), the output folder and the shard size. The result (``result.json``
in the output folder) lists every tensor with its dtype, shape and the sha256 of its bytes as
loaded from the checkpoint and as read back from the written safetensors file. Only
``torch.load(..., weights_only=True)`` is used: a checkpoint needing other globals fails with
torch's message naming them. Never imports Django.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def _flatten(value, prefix: str, out: dict) -> None:
    import torch

    if isinstance(value, torch.Tensor):
        if prefix in out:
            raise ValueError(f"tensor {prefix!r} appears in more than one checkpoint")
        out[prefix] = value
    elif isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    # Other values (step counters, config strings) are not weights: safetensors holds tensors only.


def _digest(tensor) -> str:
    import torch

    flat = tensor.detach().contiguous().reshape(-1)
    return hashlib.sha256(flat.view(torch.uint8).numpy().tobytes()).hexdigest()


def _shards(names: list[str], tensors: dict, shard_bytes: int) -> list[list[str]]:
    shards, current, size = [], [], 0
    for name in names:
        nbytes = tensors[name].numel() * tensors[name].element_size()
        if current and size + nbytes > shard_bytes:
            shards.append(current)
            current, size = [], 0
        current.append(name)
        size += nbytes
    if current:
        shards.append(current)
    return shards


def convert(job: dict) -> dict:
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    tensors: dict = {}
    for source in job["inputs"]:
        loaded = torch.load(source, map_location="cpu", weights_only=True)
        _flatten(loaded, "", tensors)
    if not tensors:
        raise ValueError("the checkpoints hold no tensors")
    # safetensors refuses tensors sharing memory: each gets its own contiguous copy.
    tensors = {name: t.detach().contiguous().clone() for name, t in tensors.items()}
    names = sorted(tensors)
    before = {name: _digest(tensors[name]) for name in names}
    out = Path(job["output"])
    groups = _shards(names, tensors, int(job["shard_bytes"]))
    files: dict[str, str] = {}
    for number, group in enumerate(groups, start=1):
        filename = "model.safetensors" if len(groups) == 1 else f"model-{number:05d}-of-{len(groups):05d}.safetensors"
        save_file({name: tensors[name] for name in group}, str(out / filename), metadata={"format": "pt"})
        files.update(dict.fromkeys(group, filename))
    if len(groups) > 1:
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        index = {"metadata": {"total_size": total}, "weight_map": files}
        (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    after = {}
    for filename in sorted(set(files.values())):
        with safe_open(str(out / filename), framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 (safe_open has no __iter__)
                after[name] = _digest(handle.get_tensor(name))
    rows = [
        {
            "name": name,
            "dtype": str(tensors[name].dtype).removeprefix("torch."),
            "shape": list(tensors[name].shape),
            "before": before[name],
            "after": after.get(name, ""),
            "file": files[name],
        }
        for name in names
    ]
    outputs = sorted(set(files.values())) + (["model.safetensors.index.json"] if len(groups) > 1 else [])
    return {"ok": True, "tensors": rows, "outputs": outputs}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[1]).read_text())
    result_path = Path(job["output"]) / "result.json"
    try:
        result = convert(job)
    except Exception as error:  # the parent reads the reason from the result file
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"[:4000]}
    result_path.write_text(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
