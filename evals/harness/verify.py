"""Checking signed results (``python -m evals verify``).

Three levels, each optional after the first:

1. the signature: the payload is what the key's owner signed (any changed byte fails);
2. the per-item files (``--samples DIR``, holding ``samples_<task>.jsonl``): each has the sha256
   the payload names, so no item was changed, added or dropped;
3. a re-run (``--rerun N --model DIR``): N items drawn at random are scored again here, on the
   model whose file hashes the payload names, and their log-likelihoods (or generations) are
   compared with the recorded ones. Scores agree within ``tolerance``; on the same hardware and
   library versions they are bitwise equal.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.harness.adapters.base import GenerationRequest
from evals.harness.errors import EvalError
from evals.harness.outputs import hash_model_dir
from evals.harness.signing import verify

DEFAULT_TOLERANCE = 1e-4


@dataclass
class VerifyReport:
    payload: dict[str, Any]
    files_checked: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)
    rerun: int = 0
    identical: int = 0
    agreeing: int = 0
    max_abs_diff: float = 0.0
    disagreeing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.files_changed and not self.disagreeing


def _read_bundle(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalError(f"{path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} is not JSON: {exc}") from None


def _samples(samples_dir: Path, task: str) -> bytes:
    path = Path(samples_dir) / f"samples_{task}.jsonl"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EvalError(f"{path} is missing (the payload names task {task})") from None


def _rescore(lm, record: dict[str, Any]) -> list[Any]:
    """Score one recorded item's requests again; values in the order of its responses."""
    requests = record["requests"]
    kind = requests[0]["type"]
    if kind == "loglikelihood":
        results = lm.loglikelihood([(r["context"], r["continuation"]) for r in requests], batch_size=len(requests))
        return [r.logprob for r in results]
    if kind == "loglikelihood_rolling":
        return lm.loglikelihood_rolling([r["text"] for r in requests], batch_size=1)
    generations = [GenerationRequest(r["context"], tuple(r["until"]), r["max_gen_toks"]) for r in requests]
    return lm.generate_until(generations, batch_size=len(generations))


def _recorded(record: dict[str, Any]) -> list[Any]:
    return [response.get("logprob", response.get("text")) for response in record["responses"]]


def verify_results(
    bundle_path: Path,
    *,
    public_key: bytes,
    samples_dir: Path | None = None,
    rerun: int = 0,
    model_dir: Path | None = None,
    seed: int = 0,
    device: str = "cpu",
    tolerance: float = DEFAULT_TOLERANCE,
) -> VerifyReport:
    """Check a signed results bundle (see the module docstring); ``EvalError`` for a bad signature
    or for inputs that cannot be checked (a missing file, a model that is not the one signed)."""
    payload = verify(_read_bundle(bundle_path), public_pem=public_key)
    report = VerifyReport(payload=payload)
    if samples_dir is None:
        if rerun:
            raise EvalError("--rerun needs --samples (the recorded items to score again)")
        return report
    records: list[tuple[str, dict[str, Any]]] = []
    for task, claims in payload["tasks"].items():
        content = _samples(samples_dir, task)
        report.files_checked.append(task)
        if hashlib.sha256(content).hexdigest() != claims["samples_sha256"]:
            report.files_changed.append(task)
        records += [(task, json.loads(line)) for line in content.decode("utf-8").splitlines() if line]
    if not rerun:
        return report
    if model_dir is None:
        raise EvalError("--rerun needs --model (the model directory the results name)")
    files = hash_model_dir(Path(model_dir))
    if files != payload["model"]["files"]:
        raise EvalError(f"{model_dir} is not the model the results name (its file hashes differ)")
    from evals.harness.adapters import load_adapter

    adapter = payload["config"].get("adapter", "core")
    lm = load_adapter(adapter, Path(model_dir), device=device, dtype=payload["config"].get("dtype", "float32"))
    for task, record in random.Random(seed).sample(records, min(rerun, len(records))):
        recorded, again = _recorded(record), _rescore(lm, record)
        report.rerun += 1
        numeric = all(isinstance(v, float) for v in recorded + again)
        diff = max((abs(a - b) for a, b in zip(recorded, again, strict=True)), default=0.0) if numeric else 0.0
        same = recorded == again
        report.max_abs_diff = max(report.max_abs_diff, diff)
        report.identical += same
        if same or (numeric and diff <= tolerance):
            report.agreeing += 1
        else:
            report.disagreeing.append(f"{task}/{record['item_id']}")
    return report
