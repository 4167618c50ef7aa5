"""Collections: curated, ordered lists of models, datasets, tutorials and other kinds of items
(leaderboards, registered by their app: ``registry.collection_kinds``), owned by a user or an
organization, public or private, with a note per item and upvotes.

Imported at the end of ``registry.models`` so Django registers these models with the app.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import get_script_prefix
from django.utils.text import slugify

from hub.models import Namespace
from registry.querysets import CollectionQuerySet


def new_object_key() -> str:
    """A 24-hex-digit id, the shape of the Hub's object ids (the tail of a slug, an item's ``_id``)."""
    return secrets.token_hex(12)


class CollectionTheme(models.TextChoices):
    """Colours of a collection's card, as the Hub names them."""

    ORANGE = "orange", "Orange"
    BLUE = "blue", "Blue"
    GREEN = "green", "Green"
    PURPLE = "purple", "Purple"
    PINK = "pink", "Pink"
    INDIGO = "indigo", "Indigo"


class Collection(models.Model):
    """An ordered list of items curated by a namespace. Its slug, ``{owner}/{title}-{key}``, follows
    the title; only ``key`` identifies it, so links with an old title keep working."""

    key = models.CharField(max_length=24, unique=True, default=new_object_key)
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="collections")
    title = models.CharField(max_length=60)
    description = models.CharField(max_length=150, blank=True)
    private = models.BooleanField(default=False)
    theme = models.CharField(max_length=8, choices=CollectionTheme.choices, default=CollectionTheme.ORANGE)
    position = models.PositiveIntegerField(default=0)  # among the owner's collections
    upvotes = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now_add=True)

    objects = CollectionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["namespace", "position"]), models.Index(fields=["-upvotes"])]

    def __str__(self) -> str:
        return self.slug

    @property
    def slug(self) -> str:
        return f"{self.namespace.name}/{slugify(self.title) or 'collection'}-{self.key}"

    @property
    def web_path(self) -> str:
        return f"{get_script_prefix()}collections/{self.slug}"


class CollectionItem(models.Model):
    """One entry of a collection: a ``kind`` (``model``, ``dataset``, ``tutorial``, or a kind an
    app registered) and the primary key of its object. Repository items also hold the repository,
    so they follow renames and vanish with it."""

    key = models.CharField(max_length=24, unique=True, default=new_object_key)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=32)
    object_pk = models.PositiveBigIntegerField()
    repo = models.ForeignKey(
        "registry.Repo", null=True, blank=True, on_delete=models.CASCADE, related_name="collection_items"
    )
    position = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "kind", "object_pk"], name="collection_item_unique")
        ]
        indexes = [models.Index(fields=["kind", "object_pk"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_pk} in {self.collection_id}"


class CollectionUpvote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collection_upvotes")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="upvote_rows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "collection"], name="collection_upvote_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} upvotes {self.collection_id}"
