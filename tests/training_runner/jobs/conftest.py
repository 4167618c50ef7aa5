"""Fixtures of the run tests: a Greek-letter corpus as a dataset repository, a tiny pretrained
decoder as a model repository, tiny training parameters, and folders of their own for runs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from registry.choices import RepoType
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user
from tests.training_runner.core.conftest import GREEK
from training_runner.jobs.models import Run
from training_runner.jobs.services.execute import run_execute

# Tiny models on a busy 2-core machine: one intra-op thread is faster than two waiting on each other.
torch.set_num_threads(1)


# Small enough for a few seconds per run on one CPU thread.
TINY = {
    "model.hidden_size": 32,
    "model.num_layers": 2,
    "model.num_heads": 4,
    "model.num_kv_heads": 2,
    "model.max_position_embeddings": 64,
    "tokenizer.vocab_size": 300,
    "data.seq_len": 32,
    "train.max_steps": 8,
    "train.batch_size": 4,
    "train.eval_interval": 4,
    "train.eval_batches": 2,
    "train.log_interval": 2,
    "optim.warmup_steps": 2,
}
FINE_TUNE = {
    "data.seq_len": 32,
    "train.max_steps": 4,
    "train.batch_size": 4,
    "train.eval_interval": 0,
    "train.eval_batches": 2,
    "optim.warmup_steps": 1,
}


def greek_text(seed: int, count: int) -> bytes:
    rng = random.Random(seed)
    docs = [" ".join(rng.choice(GREEK) for _ in range(rng.randint(20, 60))) for _ in range(count)]
    return ("\n\n".join(docs) + "\n").encode()


@pytest.fixture(autouse=True)
def _run_folders(settings, tmp_path):
    settings.HUB_RUN_WORK_DIR = tmp_path / "runs"
    settings.HUB_SNAPSHOT_DIR = tmp_path / "snapshots"


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def corpus(alice):
    """``alice/greek``: train and validation text, a card and a licence file (not training data)."""
    repo = make_repo(alice, "greek", repo_type=RepoType.DATASET)
    commit_files(
        repo,
        alice,
        {
            "train.txt": greek_text(0, 200),
            "valid.txt": greek_text(1, 20),
            "README.md": b"---\nlicense: cc0-1.0\n---\nGreek letters.\n",
            "LICENSE.txt": b"CC0 1.0 Universal\n",
        },
        summary="Add the corpus",
    )
    return repo


@pytest.fixture(scope="session")
def pretrained_dir(tmp_path_factory) -> Path:
    """A tiny pretrained decoder in the transformers layout, trained once by the core."""
    from training_runner.core.config import TrainConfig
    from training_runner.core.run import run_training

    data = tmp_path_factory.mktemp("greek")
    (data / "train.txt").write_bytes(greek_text(0, 200))
    (data / "valid.txt").write_bytes(greek_text(1, 20))
    config = {
        "recipe": "pretrain_clm",
        "seed": 5,
        "data": {"path": str(data), "seq_len": 32},
        "model": {"hidden_size": 32, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "max_position_embeddings": 64},
        "tokenizer": {"vocab_size": 300},
        "optim": {"warmup_steps": 2},
        "train": {"max_steps": 6, "batch_size": 4, "eval_interval": 0, "eval_batches": 2, "log_interval": 0},
    }
    out = tmp_path_factory.mktemp("pretrained") / "model"
    run_training(TrainConfig.from_dict(config), output_dir=out)
    return out


@pytest.fixture
def base_model(alice, pretrained_dir):
    """``alice/tiny-base``: the pretrained decoder, as a model repository."""
    repo = make_repo(alice, "tiny-base")
    files = {p.name: p.read_bytes() for p in sorted(pretrained_dir.iterdir()) if p.is_file() and p.suffix != ".jsonl"}
    commit_files(repo, alice, files, summary="Add the model")
    return repo


def execute(run: Run) -> Run:
    """One attempt of ``run`` in this process, as a worker would do it."""
    run_execute(run_id=run.pk, worker="test-worker@host")
    run.refresh_from_db()
    return run
