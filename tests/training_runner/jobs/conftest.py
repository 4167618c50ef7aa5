"""Fixtures of the run tests: a Greek-letter corpus as a dataset repository, a tiny pretrained
decoder as a model repository, tiny training parameters, and folders of their own for runs."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
import torch
import yaml

from common.errors import HubError
from registry.choices import RepoType
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user
from tests.training_runner.core.conftest import GREEK
from training_runner.jobs.models import Run

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
    return publish_corpus(alice)


def train_tiny_decoder(folder: Path, *, seed: int = 5, steps: int = 6) -> Path:
    """A tiny pretrained decoder in the transformers layout, trained by the core on Greek letters."""
    from training_runner.core.config import TrainConfig
    from training_runner.core.run import run_training

    data = folder / "greek"
    data.mkdir(parents=True)
    (data / "train.txt").write_bytes(greek_text(0, 200))
    (data / "valid.txt").write_bytes(greek_text(1, 20))
    config = {
        "recipe": "pretrain_clm",
        "seed": seed,
        "data": {"path": str(data), "seq_len": 32},
        "model": {"hidden_size": 32, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "max_position_embeddings": 64},
        "tokenizer": {"vocab_size": 300},
        "optim": {"warmup_steps": 2},
        "train": {"max_steps": steps, "batch_size": 4, "eval_interval": 0, "eval_batches": 2, "log_interval": 0},
    }
    out = folder / "model"
    run_training(TrainConfig.from_dict(config), output_dir=out)
    return out


def publish_corpus(user):
    """``<user>/greek``: train and validation text, a card and a licence file (not training data)."""
    repo = make_repo(user, "greek", repo_type=RepoType.DATASET)
    files = {
        "train.txt": greek_text(0, 200),
        "valid.txt": greek_text(1, 20),
        "README.md": b"---\nlicense: cc0-1.0\n---\nGreek letters.\n",
        "LICENSE.txt": b"CC0 1.0 Universal\n",
    }
    commit_files(repo, user, files, summary="Add the corpus")
    return repo


def publish_model(user, name: str, directory: Path):
    repo = make_repo(user, name)
    files = {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and p.suffix != ".jsonl"}
    commit_files(repo, user, files, summary="Add the model")
    return repo


@pytest.fixture(scope="session")
def pretrained_dir(tmp_path_factory) -> Path:
    return train_tiny_decoder(tmp_path_factory.mktemp("pretrained"))


@pytest.fixture
def base_model(alice, pretrained_dir):
    """``alice/tiny-base``: the pretrained decoder, as a model repository."""
    return publish_model(alice, "tiny-base", pretrained_dir)


def publish_suite_repo(user, *, pin_sha: str | None = None):
    """``<user>/letters-bench``: a four-item multiple-choice suite defined in a dataset repository."""
    items = [
        {"id": i, "question": f"Which letter comes after {a}?", "choices": [b, a], "gold": 0}
        for i, (a, b) in enumerate([("alpha", "beta"), ("beta", "gamma"), ("gamma", "delta"), ("delta", "epsilon")])
    ]
    data = b"".join(json.dumps(item).encode() + b"\n" for item in items)
    task = {
        "name": "letters",
        "version": 1,
        "dataset": {
            "format": "jsonl",
            "id_field": "id",
            "splits": {"test": {"path": "data/letters.jsonl", "sha256": pin_sha or hashlib.sha256(data).hexdigest()}},
        },
        "split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "Q: {{ question }}\nA:",
        "doc_to_target": "{{ gold }}",
        "doc_to_choice": "{{ choices }}",
        "metrics": ["acc", "acc_norm"],
    }
    suite = {
        "name": "letters-suite",
        "version": 1,
        "aggregate": {"metric": "acc", "method": "mean"},
        "tasks": [{"file": "tasks/letters.yaml"}],
    }
    repo = make_repo(user, "letters-bench", repo_type=RepoType.DATASET)
    commit_files(
        repo,
        alice,
        {
            "suite.yaml": yaml.safe_dump(suite).encode(),
            "tasks/letters.yaml": yaml.safe_dump(task).encode(),
            "data/letters.jsonl": data,
        },
    )
    return repo


def refused(call, **kwargs) -> HubError:
    """The error ``call(**kwargs)`` raises, after checking it queued no run."""
    with pytest.raises(HubError) as error:
        call(**kwargs)
    assert Run.objects.count() == 0
    return error.value
