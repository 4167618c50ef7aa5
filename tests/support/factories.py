"""Factories building real rows through the services, so tests exercise the same rules as users."""

from __future__ import annotations

import itertools

from hub.models import Organization, User
from hub.services.accounts import user_create
from hub.services.organizations import membership_add, organization_create
from hub.services.tokens import token_create

DEFAULT_PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def make_user(username: str | None = None, *, password: str = DEFAULT_PASSWORD, fullname: str = "") -> User:
    username = username or f"user{next(_counter)}"
    return user_create(username=username, email=f"{username}@example.org", password=password, fullname=fullname)


def make_org(
    name: str | None = None, *, admin: User | None = None, members: dict[str, str] | None = None
) -> Organization:
    admin = admin or make_user()
    organization = organization_create(creator=admin, name=name or f"org{next(_counter)}")
    for username, role in (members or {}).items():
        membership_add(actor=admin, organization=organization, username=username, role=role)
    return organization


def make_token(user: User, *, role: str = "write", name: str = "test") -> str:
    _token, secret = token_create(user=user, name=name, role=role)
    return secret
