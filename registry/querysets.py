"""Querysets of the registry. Visibility of repositories is decided here and nowhere else."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def namespaces_of(user) -> models.QuerySet:
    """Ids of the namespaces ``user`` acts for: their own and their organizations'."""
    from hub.models import Namespace

    return Namespace.objects.filter(Q(user=user) | Q(organization__memberships__user=user)).values("id")


class RepoQuerySet(models.QuerySet):
    def visible_to(self, user) -> RepoQuerySet:
        """Repositories ``user`` may see: public ones, plus private ones of their own namespaces.

        Staff see everything (moderation). Anonymous users see public repositories only.
        """
        return _visible_to(self, user)


class CollectionQuerySet(models.QuerySet):
    def visible_to(self, user) -> CollectionQuerySet:
        """Collections ``user`` may see: the same rule as repositories."""
        return _visible_to(self, user)


def _visible_to(queryset: models.QuerySet, user) -> models.QuerySet:
    """Public rows, plus private ones of ``user``'s namespaces; all for staff, public for anonymous."""
    if user is None or not user.is_authenticated:
        return queryset.filter(private=False)
    if user.is_staff:
        return queryset
    return queryset.filter(Q(private=False) | Q(namespace_id__in=namespaces_of(user)))
