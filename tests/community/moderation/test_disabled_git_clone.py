"""The real ``git`` against a live hub: cloning a disabled repository fails with the moderation
action in git's message; once it is enabled again the clone brings its files."""

from __future__ import annotations

import pytest

from community.moderation.selectors import repo_target
from community.moderation.services import action_take
from hub.models import User
from tests.community.moderation.helpers import make_moderator
from tests.support.git import git_user, needs_git

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_git]


def test_git_clone_is_refused_while_the_repository_is_disabled(hub, tmp_path):
    hub.api.create_repo("tiny")
    hub.api.upload_file(path_or_fileobj=b"tiny weights", path_in_repo="weights.bin", repo_id="alice/tiny")
    moderator = make_moderator()
    target = repo_target(user=User.objects.get(username="alice"), repo_type="model", namespace="alice", name="tiny")
    action = action_take(moderator=moderator, kind="disable_repo", target=target, reason="malware")
    alice = git_user(tmp_path / "alice", username="alice", token=hub.token)

    refused = alice.run("clone", "-q", f"{hub.url}/alice/tiny", str(tmp_path / "refused"), check=False)
    assert refused.returncode == 128
    assert "451" in refused.stderr
    assert not (tmp_path / "refused").exists()
    assert f"moderation action #{action.pk}" in refused.stderr + refused.stdout

    action_take(moderator=moderator, kind="enable_repo", target=target, reason="other")
    alice.run("clone", "-q", f"{hub.url}/alice/tiny", str(tmp_path / "clone"))
    assert (tmp_path / "clone" / "weights.bin").read_bytes() == b"tiny weights"
