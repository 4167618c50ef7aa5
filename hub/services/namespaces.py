"""The namespace of names shared by users and organizations."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from common.errors import Conflict, ValidationError
from hub.choices import NamespaceKind
from hub.models import Namespace

# Letters, digits, single hyphens or underscores between them; 2 to 39 characters. Every such name
# is also a valid repository-id part for the huggingface_hub client (HF_PROTOCOL.md §4).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[-_](?=[A-Za-z0-9])){1,38}$")

# First path segments the site and the HF-compatible API route themselves; a user or organization
# with one of these names would shadow a page.
RESERVED_NAMES = frozenset(
    {
        "about", "account", "accounts", "admin", "admin-audit", "administrator", "api", "arena", "assets", "auth",
        "blog", "collections", "datasets", "docs", "explore", "favicon.ico", "healthz", "help", "hub", "jobs",
        "join", "kernels", "leaderboard", "leaderboards", "login", "logout", "me", "media", "metrics", "moderation",
        "models", "new", "notifications", "organizations", "orgs", "password-reset", "playground", "playgrounds",
        "pricing", "readyz", "root", "runs", "search", "security", "settings", "signup", "spaces", "static",
        "status", "support", "system", "terms", "tutorials", "user", "users", "www", "xet", "v1", "v2",
    }
)  # fmt: skip


def namespace_validate_name(*, name: str) -> str:
    """Check a proposed user or organization name; return it stripped or raise ``ValidationError``."""
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise ValidationError(
            "Names are 2 to 39 characters: letters, digits, and single '-' or '_' between them.",
            fields={"name": ["Use 2 to 39 letters or digits, with single '-' or '_' between them."]},
        )
    if name.lower() in RESERVED_NAMES:
        raise ValidationError(f"The name '{name}' is reserved.", fields={"name": [f"'{name}' is reserved."]})
    return name


def namespace_create(*, name: str, kind: NamespaceKind) -> Namespace:
    """Claim ``name`` for a new user or organization.

    The case-insensitive unique index decides races: the loser gets ``Conflict``.
    """
    name = namespace_validate_name(name=name)
    if Namespace.objects.filter(name__iexact=name).exists():
        raise Conflict(f"The name '{name}' is already taken.", fields={"name": [f"'{name}' is already taken."]})
    try:
        with transaction.atomic():
            return Namespace.objects.create(name=name, kind=kind)
    except IntegrityError:
        raise Conflict(
            f"The name '{name}' is already taken.", fields={"name": [f"'{name}' is already taken."]}
        ) from None
