"""Fixtures of the git smart-HTTP tests: ``tiny`` made through the HF API (a README, a regular file in
a folder and an LFS file) and ``alice_git``, alice at a terminal with her token."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd

from tests.registry.git_http.helpers import README
from tests.support.git import git_user
from tests.support.hf import random_bytes


@pytest.fixture
def tiny(hub):
    """alice/tiny made through the HF API: a README, a regular file in a folder and an LFS file."""
    hub.api.create_repo("tiny")
    hub.api.create_commit(
        "alice/tiny",
        operations=[
            CommitOperationAdd("README.md", README.encode()),
            CommitOperationAdd("src/model.py", b"print('hello')\n"),
            CommitOperationAdd("weights.bin", random_bytes(150_000, seed=1)),
        ],
        commit_message="Add the model",
    )
    return "alice/tiny"


@pytest.fixture
def alice_git(hub, tmp_path):
    return git_user(tmp_path / "alice", username="alice", token=hub.token)
