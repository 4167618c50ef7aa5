"""People and a repository for the moderation tests: a moderator, the owner, a reporter, an org."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.test import APIClient

from hub.models import User
from registry.models import Repo
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_token, make_user


def api(token: str | None = None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def make_moderator(name: str = "mod", **kwargs) -> User:
    moderator = make_user(name, **kwargs)
    moderator.is_moderator = True
    moderator.save(update_fields=["is_moderator"])
    return moderator


@dataclass
class Cast:
    moderator: User
    owner: User
    reporter: User
    org_admin: User
    repo: Repo
    org_repo: Repo
    tokens: dict[str, str]


def make_cast(**user_kwargs) -> Cast:
    moderator = make_moderator(**user_kwargs)
    owner = make_user("alice", **user_kwargs)
    reporter = make_user("bob", **user_kwargs)
    org_admin = make_user("olga", **user_kwargs)
    org = make_org("acme", admin=org_admin)
    repo = make_repo(owner, "tiny")
    commit_files(repo, owner, {"README.md": b"# Tiny\n", "weights.bin": b"tiny weights"})
    org_repo = make_repo(org_admin, "shared", namespace=org.namespace)
    tokens = {user.username: make_token(user) for user in (moderator, owner, reporter, org_admin)}
    return Cast(moderator, owner, reporter, org_admin, repo, org_repo, tokens)
