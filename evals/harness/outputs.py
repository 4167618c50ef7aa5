"""Run outputs: environment capture, model hashes, the run fingerprint and the files on disk.

An output directory holds ``results.json`` and one ``samples_<task>.jsonl`` per task (one line per
item: prompt, requests, responses, per-item metrics). The run fingerprint is the sha256 of the
canonical JSON of everything that determines the numbers: task and suite hashes, model file
sha256s, adapter and dtype, library versions, device, batch size, limit and seeds. Two runs with
the same fingerprint produce identical per-item results, which ``samples_sha256`` lets anyone
check without opening the logs.
"""

import json
import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import evals
from evals.harness.hashing import sha256_file, sha256_json, sha256_text

LIBRARIES = ("torch", "transformers", "tokenizers", "safetensors", "numpy", "jinja2", "pyyaml")
RESULTS_FILE = "results.json"
RESULTS_SCHEMA = 1


def hash_model_dir(model_dir: Path) -> dict[str, str]:
    """sha256 of every file under the model directory (hidden files and folders skipped)."""
    hashes = {}
    for path in sorted(model_dir.rglob("*")):
        relative = path.relative_to(model_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            hashes[relative.as_posix()] = sha256_file(path)
    return hashes


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "evals": evals.__version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_info(device: str) -> dict[str, Any]:
    """The device and what else changes float results on it (thread count, kernel libraries)."""
    import torch

    resolved = torch.device(device)
    info: dict[str, Any] = {"type": resolved.type, "torch_threads": torch.get_num_threads()}
    if resolved.type == "cuda":
        index = resolved.index if resolved.index is not None else torch.cuda.current_device()
        info["name"] = torch.cuda.get_device_name(index)
        info["capability"] = list(torch.cuda.get_device_capability(index))
        info["cuda"] = torch.version.cuda
    else:
        info["name"] = _cpu_name()
        info["machine"] = platform.machine()
    return info


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_fingerprint(determinants: Mapping[str, Any]) -> str:
    return sha256_json(determinants)


def samples_jsonl(records: Sequence[Mapping[str, Any]]) -> str:
    """The per-sample log of one task: one JSON object per line, in item order."""
    return "".join(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n" for record in records)


def samples_digest(text: str) -> str:
    return sha256_text(text)


def write_outputs(output_dir: Path, results: Mapping[str, Any], samples: Mapping[str, str]) -> None:
    """Write ``results.json`` and the per-task sample logs (atomically, file by file)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for task, text in samples.items():
        _write_atomic(output_dir / f"samples_{task}.jsonl", text)
    _write_atomic(output_dir / RESULTS_FILE, json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def read_results(output_dir: Path) -> dict[str, Any]:
    return json.loads((output_dir / RESULTS_FILE).read_text(encoding="utf-8"))


def read_samples(output_dir: Path, task: str) -> list[dict[str, Any]]:
    path = output_dir / f"samples_{task}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
