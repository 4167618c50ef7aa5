"""Data parallelism under torchrun (Gloo on CPU): 2 ranks × batch B train like 1 process × batch 2B."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def overrides(data: Path, batch_size: int) -> list[str]:
    items = [
        f"data.path={data}",
        "data.seq_len=32",
        "model.hidden_size=32",
        "model.num_layers=2",
        "model.max_position_embeddings=32",
        "tokenizer.vocab_size=300",
        "train.max_steps=6",
        "train.eval_interval=3",
        "train.eval_batches=2",
        f"train.batch_size={batch_size}",
        "train.grad_accum_steps=2",
        "train.log_interval=0",
        "train.device=cpu",
    ]
    return [arg for item in items for arg in ("--set", item)]


def metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_ranks_match_one_process_with_twice_the_batch(greek_corpus: Path, tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = ["-m", "training_runner", "train", "training_runner/configs/pretrain_clm.yaml"]
    single = subprocess.run(
        [sys.executable, *command, *overrides(greek_corpus, 8), "--output-dir", str(tmp_path / "one")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *command,
         *overrides(greek_corpus, 4), "--output-dir", str(tmp_path / "two")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ddp.returncode == 0, ddp.stderr
    one, two = metrics(tmp_path / "one"), metrics(tmp_path / "two")
    assert [(e["event"], e["step"]) for e in two] == [(e["event"], e["step"]) for e in one]
    for a, b in zip(one, two, strict=True):
        key = "loss" if a["event"] == "train" else "val_loss"
        assert b[key] == pytest.approx(a[key], rel=1e-5)
    assert two[-2]["tokens_seen"] == one[-2]["tokens_seen"] == 6 * 2 * 8 * 32
    assert (tmp_path / "two" / "model.safetensors").exists()
