"""What a collection item may point at: one ``ItemKind`` per kind, registered by name.

The registry registers its repository kinds here; apps above it (leaderboards) register theirs in
``AppConfig.ready`` — the registry never imports them (ARCHITECTURE.md §3: a lower layer reaches a
higher one through a registered hook). A kind finds an object by the id clients speak (a repo id,
a board id) and describes stored items by primary key, both as a given reader may see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.errors import ValidationError
from common.timefmt import iso_z
from registry.choices import RepoType
from registry.models import Collection, Repo


@dataclass(frozen=True)
class ItemTarget:
    """The object behind a collection item, as one reader sees it."""

    object_pk: int
    id: str  # what the HF API calls the item's ``id``: a repo id, a board id
    title: str
    web_path: str
    repo: Repo | None = None  # repository kinds only
    fields: dict[str, Any] = field(default_factory=dict)  # extra keys of the item in the HF API


@dataclass(frozen=True)
class ItemKind:
    name: str  # the item ``type`` of the HF API: "model", "leaderboard"
    label: str  # how pages name the kind: "Model"
    url_plural: str  # the prefix of ``list_collections(item="models/ns/x")``
    find: Callable[[Any, str], ItemTarget | None]  # (reader, id) -> the target, None if not visible
    describe: Callable[[Any, list[int]], dict[int, ItemTarget]]  # (reader, pks) -> the visible ones


ITEM_KINDS: dict[str, ItemKind] = {}


def register_item_kind(kind: ItemKind) -> None:
    ITEM_KINDS[kind.name] = kind


def item_kind(name: str) -> ItemKind:
    """The kind called ``name``; a 400 naming the kinds this hub supports otherwise."""
    try:
        return ITEM_KINDS[name]
    except KeyError:
        supported = ", ".join(sorted(ITEM_KINDS))
        raise ValidationError(
            f"Collections here hold {supported}; {name!r} items are not supported.", fields={"type": ["Unsupported."]}
        ) from None


def item_kind_by_plural(plural: str) -> ItemKind | None:
    return next((kind for kind in ITEM_KINDS.values() if kind.url_plural == plural), None)


def _repo_target(repo: Repo) -> ItemTarget:
    fields = {
        "author": repo.namespace.name,
        "private": repo.private,
        "gated": repo.gated or False,
        "downloads": repo.downloads,
        "likes": repo.likes,
        "lastModified": iso_z(repo.last_modified),
    }
    if repo.pipeline_tag:
        fields["pipeline_tag"] = repo.pipeline_tag
    return ItemTarget(
        object_pk=repo.pk, id=repo.repo_id, title=repo.repo_id, web_path=repo.web_path, repo=repo, fields=fields
    )


def _repo_kind(repo_type: RepoType) -> ItemKind:
    def find(user, item_id: str) -> ItemTarget | None:
        namespace, _, name = item_id.partition("/")
        if not namespace or not name or "/" in name:
            return None
        visible = Repo.objects.visible_to(user).select_related("namespace")
        repo = visible.filter(type=repo_type, namespace__name__iexact=namespace, name__iexact=name).first()
        return _repo_target(repo) if repo is not None else None

    def describe(user, pks: list[int]) -> dict[int, ItemTarget]:
        repos = Repo.objects.visible_to(user).filter(pk__in=pks, type=repo_type).select_related("namespace")
        return {repo.pk: _repo_target(repo) for repo in repos}

    return ItemKind(
        name=repo_type.value, label=repo_type.label, url_plural=f"{repo_type.value}s", find=find, describe=describe
    )


def _collection_target(collection: Collection) -> ItemTarget:
    # The client takes a collection item's id from ``slug`` (HF_PROTOCOL.md §7.2).
    fields = {"slug": collection.slug, "title": collection.title, "private": collection.private}
    return ItemTarget(
        object_pk=collection.pk, id=collection.key, title=collection.title, web_path=collection.web_path, fields=fields
    )


def _find_collection(user, item_id: str) -> ItemTarget | None:
    match = re.search(r"-([0-9a-f]{24})$", item_id)
    if match is None:
        return None
    found = Collection.objects.visible_to(user).select_related("namespace").filter(key=match.group(1)).first()
    return _collection_target(found) if found is not None else None


def _describe_collections(user, pks: list[int]) -> dict[int, ItemTarget]:
    found = Collection.objects.visible_to(user).filter(pk__in=pks).select_related("namespace")
    return {collection.pk: _collection_target(collection) for collection in found}


for _type in (RepoType.MODEL, RepoType.DATASET, RepoType.TUTORIAL):
    register_item_kind(_repo_kind(_type))
register_item_kind(
    ItemKind(
        name="collection",
        label="Collection",
        url_plural="collections",
        find=_find_collection,
        describe=_describe_collections,
    )
)
