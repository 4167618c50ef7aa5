"""Fixtures of the leaderboard tests: the run tests' repositories, an organization owning a
board on the four-item suite of a dataset repository, and a second, better-trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.leaderboards.services.boards import leaderboard_create
from tests.support.factories import make_org, make_user
from tests.training_runner.jobs.conftest import (  # noqa: F401  (fixtures shared with the run tests)
    _run_folders,
    alice,
    base_model,
    corpus,
    pretrained_dir,
    publish_model,
    publish_suite_repo,
    train_tiny_decoder,
)


@pytest.fixture(scope="session")
def second_dir(tmp_path_factory) -> Path:
    """Another tiny decoder: a different seed and more steps, so its scores differ."""
    return train_tiny_decoder(tmp_path_factory.mktemp("second"), seed=11, steps=30)


@pytest.fixture
def bob():
    return make_user("bob")


@pytest.fixture
def acme(alice):  # noqa: F811
    """alice administers acme; carol is a member."""
    make_user("carol")
    return make_org("acme", admin=alice, members={"carol": "read"})


@pytest.fixture
def board(alice, acme):  # noqa: F811
    publish_suite_repo(alice)
    return leaderboard_create(
        user=alice, namespace=acme.namespace, name="letters", title="Letters", suite="datasets/alice/letters-bench"
    )
