"""Registry tests: the shared fixtures of ``tests.support.repo_fixtures`` (``alice``, ``bob``,
``repo``, ``hub``, ``bob_hub``, ``tiny``; no staging files left behind), and ``canary``."""

import pytest

from tests.support.repo_fixtures import alice, bob, bob_hub, hub, no_staging_leftovers, repo, tiny

__all__ = ["alice", "bob", "bob_hub", "hub", "no_staging_leftovers", "repo", "tiny"]


@pytest.fixture
def canary(tmp_path):
    """Where the malicious pickle of ``tests.registry.scan_files`` writes if anything ever runs it."""
    path = tmp_path / "canary"
    yield path
    assert not path.exists(), "the malicious pickle ran: the canary file exists"
