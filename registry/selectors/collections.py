"""Reading collections: one access check, listings with filters and sorts, and items as a reader
sees them (an item whose object the reader may not see is left out)."""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce

from django.db.models import Q, QuerySet

from common.errors import PermissionDenied, Unauthenticated, ValidationError
from hub.choices import NamespaceKind, OrgRole
from hub.models import Membership, Namespace
from hub.permissions import OrgAction, role_allows
from registry.collection_kinds import ItemTarget, item_kind, item_kind_by_plural
from registry.errors import CollectionNotFound
from registry.models import Collection, CollectionItem, CollectionUpvote

_SLUG_KEY = re.compile(r"-([0-9a-f]{24})$")
# ``trending`` ranks by upvotes: no trending score is kept for collections.
COLLECTION_SORTS = {
    "lastModified": ["-last_updated", "-id"],
    "upvotes": ["-upvotes", "-last_updated", "-id"],
    "trending": ["-upvotes", "-last_updated", "-id"],
}
# A listing shows the first items of each collection, as the Hub does; the page shows them all.
LISTING_ITEMS = 4


@dataclass(frozen=True)
class ItemView:
    item: CollectionItem
    target: ItemTarget


def namespace_can_curate(*, user, namespace: Namespace) -> bool:
    """Whether ``user`` may create and edit the collections of ``namespace``: its user, or members
    of its organization allowed to write repositories."""
    if user is None or not user.is_authenticated:
        return False
    if namespace.kind == NamespaceKind.USER:
        return namespace.user.pk == user.pk
    role = Membership.objects.filter(organization__namespace=namespace, user=user).values_list("role", flat=True)
    return role_allows(role.first(), OrgAction.WRITE_REPO)


def collections_curated_by(*, user) -> QuerySet[Collection]:
    """The collections ``user`` may add items to: their own, then their organizations' where they
    may write repositories."""
    roles = [role for role in OrgRole if role_allows(role, OrgAction.WRITE_REPO)]
    organizations = Membership.objects.filter(user=user, role__in=roles).values("organization__namespace_id")
    return (
        Collection.objects.filter(Q(namespace__user=user) | Q(namespace_id__in=organizations))
        .select_related("namespace")
        .order_by("namespace__name", "position", "id")
    )


def check_can_curate(*, user, namespace: Namespace, token=None) -> None:
    if user is None or not user.is_authenticated:
        raise Unauthenticated("Log in or pass a token to change collections.")
    if token is not None and not token.can_write:
        raise PermissionDenied("This token is read-only; create a token with the 'write' role.")
    if not namespace_can_curate(user=user, namespace=namespace):
        raise PermissionDenied(f"You are not allowed to change the collections of {namespace.name}.")


def access_collection(*, user, owner: str, slug: str, write: bool = False, token=None) -> Collection:
    """The collection ``{owner}/{slug}`` if ``user`` may see it (and, with ``write``, change it).

    Only the slug's trailing key identifies it: a link with an older title still finds it. A
    private collection is indistinguishable from a missing one (404)."""
    match = _SLUG_KEY.search(slug)
    if match is None:
        raise CollectionNotFound(f"Collection {owner}/{slug} not found.")
    return access_collection_by_key(user=user, key=match.group(1), owner=owner, write=write, token=token)


def access_collection_by_key(
    *, user, key: str, owner: str | None = None, write: bool = False, token=None
) -> Collection:
    """The collection whose key is ``key`` (of ``owner``, when given), checked as ``access_collection``."""
    queryset = (
        Collection.objects.visible_to(user).select_related("namespace__user", "namespace__organization").filter(key=key)
    )
    if owner is not None:
        queryset = queryset.filter(namespace__name__iexact=owner)
    collection = queryset.first()
    if collection is None:
        raise CollectionNotFound(f"Collection {owner + '/' if owner else ''}{key} not found.")
    if write:
        check_can_curate(user=user, namespace=collection.namespace, token=token)
    return collection


def collection_list(
    *, user, owners: list[str] = (), items: list[str] = (), sort: str = "", search: str = ""
) -> QuerySet[Collection]:
    """Collections ``user`` may see, of any of ``owners``, holding every one of ``items``
    (``models/ns/x``, ``leaderboards/ns/x``). Without a sort, one owner's collections come in their
    order and everyone's by last update."""
    queryset = Collection.objects.visible_to(user).select_related("namespace__user", "namespace__organization")
    if owners:
        queryset = queryset.filter(reduce(operator.or_, (Q(namespace__name__iexact=name) for name in owners)))
    for item in items:
        plural, _, item_id = item.partition("/")
        kind = item_kind_by_plural(plural)
        target = kind.find(user, item_id) if kind is not None else None
        if target is None:
            return queryset.none()
        queryset = queryset.filter(
            pk__in=CollectionItem.objects.filter(kind=kind.name, object_pk=target.object_pk).values("collection_id")
        )
    if search:
        queryset = queryset.filter(title__icontains=search)
    if sort and sort not in COLLECTION_SORTS:
        raise ValidationError(f"Unknown sort '{sort}'; use one of {', '.join(COLLECTION_SORTS)}.")
    if sort:
        return queryset.order_by(*COLLECTION_SORTS[sort])
    if len(owners) == 1:
        return queryset.order_by("position", "id")
    return queryset.order_by(*COLLECTION_SORTS["lastModified"])


def collections_items(*, user, collections: list[Collection], limit: int | None = None) -> dict[int, list[ItemView]]:
    """The items of each collection that ``user`` may see, in order (the first ``limit`` of them).

    One query for the items, then one per kind present."""
    rows = list(CollectionItem.objects.filter(collection__in=collections).order_by("collection_id", "position", "id"))
    by_kind: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row.object_pk)
    targets = {}
    for kind_name, pks in by_kind.items():
        try:
            kind = item_kind(kind_name)
        except ValidationError:  # the app that registered the kind is gone: its items are not shown
            continue
        targets |= {(kind_name, pk): target for pk, target in kind.describe(user, pks).items()}
    views: dict[int, list[ItemView]] = {collection.pk: [] for collection in collections}
    for row in rows:
        target = targets.get((row.kind, row.object_pk))
        shown = views[row.collection_id]
        if target is not None and (limit is None or len(shown) < limit):
            shown.append(ItemView(item=row, target=target))
    return views


def collection_item_get(*, collection: Collection, key: str) -> CollectionItem:
    item = CollectionItem.objects.filter(collection=collection, key=key).first()
    if item is None:
        raise CollectionNotFound(f"Item {key} is not in collection {collection.slug}.")
    return item


def collection_upvoted(*, user, collection: Collection) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return CollectionUpvote.objects.filter(user=user, collection=collection).exists()
