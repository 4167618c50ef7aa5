"""Who likes what: the likes of a person and the people who like a repository."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import User
from hub.selectors import user_get_by_name
from registry.models import Like, Repo


def user_likes_list(*, viewer, username: str) -> QuerySet[Like]:
    """The likes of the user called ``username`` on repositories ``viewer`` may see, newest first.

    ``NotFound`` when no such user exists."""
    person = user_get_by_name(name=username)
    return (
        Like.objects.filter(user=person, repo__in=Repo.objects.visible_to(viewer))
        .select_related("repo__namespace")
        .order_by("-created_at", "-id")
    )


def repo_likers_list(*, repo: Repo) -> QuerySet[User]:
    """The people who like ``repo``, in the order they liked it."""
    return User.objects.filter(likes__repo=repo, is_active=True).order_by("likes__created_at", "likes__id")
