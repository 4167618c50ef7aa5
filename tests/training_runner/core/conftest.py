"""Shared fixtures for the training-core tests: the offline data kit, small corpora, tiny configs."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import torch

from tests.support.tiny_models import GREEK

# One intra-op thread: the models here are tiny, and on a busy 2-core machine two OpenMP threads
# spend most of each small op waiting for each other (a run measured 10× slower).
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository, or ``$HUB_SHARED_DATA``."""
    return Path(os.environ.get("HUB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def wiki_dir() -> Path:
    path = shared_data_dir() / "wiki"
    if not (path / "train.txt").exists():
        pytest.skip(f"the offline data kit is absent ({path}); set HUB_SHARED_DATA to its folder")
    return path


@pytest.fixture
def greek_corpus(tmp_path: Path) -> Path:
    """A small deterministic text corpus with train and validation files (blank-line separated)."""
    rng = random.Random(0)
    folder = tmp_path / "greek"
    folder.mkdir()
    for name, count in (("train.txt", 300), ("valid.txt", 30)):
        docs = [" ".join(rng.choice(GREEK) for _ in range(rng.randint(20, 80))) for _ in range(count)]
        (folder / name).write_text("\n\n".join(docs) + "\n")
    return folder


def _tiny_clm_config(data_path: Path, **train) -> dict:
    return {
        "recipe": "pretrain_clm",
        "seed": 3,
        "data": {"path": str(data_path), "seq_len": 32},
        "model": {"hidden_size": 32, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "max_position_embeddings": 64},
        "tokenizer": {"vocab_size": 300},
        "optim": {"lr": 3e-3, "warmup_steps": 3},
        "train": {"max_steps": 12, "batch_size": 4, "eval_interval": 0, "eval_batches": 2, "log_interval": 0, **train},
    }


@pytest.fixture
def clm_config():
    """Factory: a pretrain_clm config dict small enough for a CPU test (``**train`` overrides ``train``)."""
    return _tiny_clm_config
