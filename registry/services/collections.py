"""Collections: create, edit, order, delete; add, annotate, move and remove items; upvotes.

Every change to a collection's items or order takes the collection's row lock first
(``collection_lock``), so two editors adding at once get distinct positions. Positions are kept
dense (0, 1, 2, …) in both a collection's items and an owner's collections.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from common.errors import Conflict, NotFound, ValidationError
from hub.models import Namespace
from registry.collection_kinds import item_kind
from registry.errors import CollectionExists
from registry.models import Collection, CollectionItem, CollectionUpvote
from registry.models_collections import CollectionTheme
from registry.selectors.collections import check_can_curate

MAX_TITLE = 60
MAX_DESCRIPTION = 150
MAX_NOTE = 500
MAX_ITEMS = 1000


def collection_lock(*, collection_id: int) -> Collection:
    return Collection.objects.select_for_update().get(pk=collection_id)


def _check_text(value, *, name: str, maximum: int, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a string.", fields={name: ["Must be a string."]})
    value = value.strip()
    if required and not value:
        raise ValidationError(f"'{name}' must not be empty.", fields={name: ["Required."]})
    if len(value) > maximum:
        raise ValidationError(
            f"'{name}' is limited to {maximum} characters.", fields={name: [f"At most {maximum} characters."]}
        )
    return value


def _check_title_free(*, namespace: Namespace, title: str, exclude: int | None = None) -> None:
    existing = Collection.objects.filter(namespace=namespace, title__iexact=title).exclude(pk=exclude).first()
    if existing is not None:
        raise CollectionExists(f"{namespace.name} already has a collection called '{title}'.", slug=existing.slug)


def _move(rows: list, row, position: int) -> list:
    """``rows`` in order with ``row`` moved to ``position`` (clamped)."""
    rest = [other for other in rows if other.pk != row.pk]
    rest.insert(max(0, min(position, len(rest))), row)
    return rest


def _renumber(model, rows: list) -> None:
    for index, row in enumerate(rows):
        row.position = index
    model.objects.bulk_update(rows, ["position"])


def collection_create(
    *, user, namespace: Namespace, title: str, description: str = "", private: bool = False, token=None
) -> Collection:
    """A new, empty collection of ``namespace``, last among its collections. A title the owner
    already uses is a ``CollectionExists`` conflict naming the existing slug."""
    check_can_curate(user=user, namespace=namespace, token=token)
    title = _check_text(title, name="title", maximum=MAX_TITLE, required=True)
    description = _check_text(description or "", name="description", maximum=MAX_DESCRIPTION)
    with transaction.atomic():
        _check_title_free(namespace=namespace, title=title)
        position = Collection.objects.filter(namespace=namespace).count()
        collection = Collection.objects.create(
            namespace=namespace,
            title=title,
            description=description,
            private=bool(private),
            position=position,
            created_by=user,
        )
    return collection


def collection_update(
    *,
    collection: Collection,
    title: str | None = None,
    description: str | None = None,
    private: bool | None = None,
    theme: str | None = None,
    position: int | None = None,
) -> Collection:
    """Change what is given (``None``: unchanged). A new title changes the slug's text, never its key;
    ``position`` moves the collection among its owner's collections."""
    with transaction.atomic():
        collection = collection_lock(collection_id=collection.pk)
        if title is not None:
            title = _check_text(title, name="title", maximum=MAX_TITLE, required=True)
            _check_title_free(namespace=collection.namespace, title=title, exclude=collection.pk)
            collection.title = title
        if description is not None:
            collection.description = _check_text(description, name="description", maximum=MAX_DESCRIPTION)
        if private is not None:
            collection.private = bool(private)
        if theme is not None:
            if theme not in CollectionTheme.values:
                allowed = ", ".join(CollectionTheme.values)
                raise ValidationError(f"Unknown theme '{theme}'; use one of {allowed}.", fields={"theme": ["Unknown."]})
            collection.theme = theme
        if (title, description, private, theme) != (None, None, None, None):
            collection.last_updated = timezone.now()  # moving it among the owner's is no update of it
        collection.save()
        if position is not None:
            _check_position(position)
            siblings = list(Collection.objects.filter(namespace=collection.namespace).order_by("position", "id"))
            _renumber(Collection, _move(siblings, collection, position))
            collection.refresh_from_db(fields=["position"])
    return collection


def _check_position(position) -> None:
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise ValidationError("'position' must be a non-negative integer.", fields={"position": ["Invalid."]})


def collection_delete(*, collection: Collection) -> None:
    """Delete ``collection`` with its items and upvotes; the owner's other collections close ranks."""
    with transaction.atomic():
        namespace = collection.namespace
        collection.delete()
        _renumber(Collection, list(Collection.objects.filter(namespace=namespace).order_by("position", "id")))


def collection_item_add(*, user, collection: Collection, kind: str, item_id: str, note: str = "") -> CollectionItem:
    """Append the object ``item_id`` of ``kind`` to ``collection``. ``user`` must be able to see it
    (``NotFound`` otherwise); an object already there is a ``Conflict``. Takes the collection lock."""
    if not isinstance(kind, str) or not isinstance(item_id, str):
        raise ValidationError('\'item\' must be {"id": str, "type": str}.', fields={"item": ["Invalid."]})
    item_kind_ = item_kind(kind)
    note = _check_text(note or "", name="note", maximum=MAX_NOTE)
    target = item_kind_.find(user, item_id)
    if target is None:
        raise NotFound(f"No {kind} '{item_id}' was found.")
    if kind == "collection" and target.object_pk == collection.pk:
        raise ValidationError("A collection cannot hold itself.", fields={"item": ["Itself."]})
    with transaction.atomic():
        collection = collection_lock(collection_id=collection.pk)
        count = CollectionItem.objects.filter(collection=collection).count()
        if count >= MAX_ITEMS:
            raise ValidationError(f"A collection holds at most {MAX_ITEMS} items.")
        try:
            with transaction.atomic():
                item = CollectionItem.objects.create(
                    collection=collection,
                    kind=kind,
                    object_pk=target.object_pk,
                    repo=target.repo,
                    position=count,
                    note=note,
                )
        except IntegrityError:
            raise Conflict(f"{target.id} is already in collection {collection.slug}.") from None
        Collection.objects.filter(pk=collection.pk).update(last_updated=timezone.now())
    return item


def collection_item_update(
    *, collection: Collection, item: CollectionItem, note: str | None = None, position: int | None = None
) -> CollectionItem:
    """Change an item's note and/or move it to ``position``. Takes the collection lock."""
    with transaction.atomic():
        collection_lock(collection_id=collection.pk)
        if note is not None:
            item.note = _check_text(note, name="note", maximum=MAX_NOTE)
            item.save(update_fields=["note"])
        if position is not None:
            _check_position(position)
            rows = list(CollectionItem.objects.filter(collection=collection).order_by("position", "id"))
            _renumber(CollectionItem, _move(rows, item, position))
            item.refresh_from_db(fields=["position"])
        Collection.objects.filter(pk=collection.pk).update(last_updated=timezone.now())
    return item


def collection_item_delete(*, collection: Collection, item: CollectionItem) -> None:
    """Remove ``item``; the items after it close ranks. Takes the collection lock."""
    with transaction.atomic():
        collection_lock(collection_id=collection.pk)
        item.delete()
        _renumber(CollectionItem, list(CollectionItem.objects.filter(collection=collection).order_by("position", "id")))
        Collection.objects.filter(pk=collection.pk).update(last_updated=timezone.now())


def collection_upvote_set(*, user, collection: Collection, upvoted: bool) -> int:
    """``user`` upvotes (or withdraws an upvote from) ``collection``; idempotent. The new count."""
    with transaction.atomic():
        if upvoted:
            try:
                with transaction.atomic():
                    CollectionUpvote.objects.create(user=user, collection=collection)
                Collection.objects.filter(pk=collection.pk).update(upvotes=F("upvotes") + 1)
            except IntegrityError:
                pass
        else:
            deleted, _ = CollectionUpvote.objects.filter(user=user, collection=collection).delete()
            if deleted:
                Collection.objects.filter(pk=collection.pk, upvotes__gt=0).update(upvotes=F("upvotes") - 1)
    return Collection.objects.values_list("upvotes", flat=True).get(pk=collection.pk)
