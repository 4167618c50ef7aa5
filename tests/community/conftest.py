"""Community tests: the shared fixtures of ``tests.support.repo_fixtures`` (``alice``, ``bob``,
``repo``, ``hub``, ``bob_hub``, ``tiny``; no staging files left behind)."""

from tests.support.repo_fixtures import alice, bob, bob_hub, hub, no_staging_leftovers, repo, tiny

__all__ = ["alice", "bob", "bob_hub", "hub", "no_staging_leftovers", "repo", "tiny"]
