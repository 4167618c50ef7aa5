"""HF-compatible collections (HF_PROTOCOL.md §7.2): ``list_collections``, ``get_collection``,
``create_collection``, ``update_collection_metadata``, ``delete_collection`` and the item calls.

Shapes the client insists on: ``get``/``create``/``add item`` answer a collection *with*
``position``, listing entries *without* it (the client adds its own), the metadata PATCH wraps the
collection in ``data``, and an item's note is an object ``{"text"}``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from common.errors import ValidationError
from common.timefmt import iso_z
from hub.choices import NamespaceKind
from hub.hf import hf_endpoint, read_json, require_user
from hub.selectors import namespace_get
from registry.hf.common import paginated, query_int
from registry.models import Collection
from registry.selectors.collections import (
    LISTING_ITEMS,
    ItemView,
    access_collection,
    collection_item_get,
    collection_list,
    collections_items,
)
from registry.services import collections as services


def _owner(collection: Collection) -> dict:
    namespace = collection.namespace
    person = namespace.user if namespace.kind == NamespaceKind.USER else namespace.organization
    return {"name": namespace.name, "type": namespace.kind, "fullname": person.fullname or namespace.name}


def _item(view: ItemView) -> dict:
    body = {**view.target.fields, "_id": view.item.key, "id": view.target.id, "type": view.item.kind}
    body["position"] = view.item.position
    if view.item.note:
        body["note"] = {"text": view.item.note}
    return body


def collection_body(collection: Collection, items: list[ItemView], *, with_position: bool = True) -> dict:
    body = {
        "id": collection.key,
        "slug": collection.slug,
        "title": collection.title,
        "description": collection.description,
        "owner": _owner(collection),
        "items": [_item(view) for view in items],
        "lastUpdated": iso_z(collection.last_updated),
        "private": collection.private,
        "theme": collection.theme,
        "upvotes": collection.upvotes,
    }
    if with_position:
        body["position"] = collection.position
    return body


def _full(request: HttpRequest, collection: Collection) -> dict:
    collection = Collection.objects.select_related("namespace__user", "namespace__organization").get(pk=collection.pk)
    items = collections_items(user=request.user, collections=[collection])[collection.pk]
    return collection_body(collection, items)


@hf_endpoint(methods=("GET", "POST"))
def collections(request: HttpRequest) -> JsonResponse:
    """``GET /api/collections`` (``owner``, ``item``, ``sort``, ``q``, ``limit``; Link pages) and
    ``POST`` ``{title, namespace, private, description?}``."""
    if request.method == "POST":
        return _create(request)
    queryset = collection_list(
        user=request.user,
        owners=request.GET.getlist("owner"),
        items=request.GET.getlist("item"),
        sort=request.GET.get("sort", ""),
        search=request.GET.get("q", ""),
    )
    limit = query_int(request, "limit", 0, minimum=0)
    page_size = min(limit, settings.HUB_LIST_PAGE_SIZE) if limit else settings.HUB_LIST_PAGE_SIZE
    offset = query_int(request, "cursor", 0)
    page = list(queryset[offset : offset + page_size + 1])
    items = collections_items(user=request.user, collections=page[:page_size], limit=LISTING_ITEMS)
    bodies = [collection_body(c, items.get(c.pk, []), with_position=False) for c in page[:page_size]]
    return paginated(request, bodies, page_size=page_size, has_more=len(page) > page_size)


def _create(request: HttpRequest) -> JsonResponse:
    user = require_user(request)
    body = read_json(request)
    namespace_name = body.get("namespace") or user.username
    if not isinstance(namespace_name, str):
        raise ValidationError("'namespace' must be a string.", fields={"namespace": ["Invalid."]})
    collection = services.collection_create(
        user=user,
        namespace=namespace_get(name=namespace_name),
        title=body.get("title"),
        description=body.get("description") or "",
        private=bool(body.get("private", False)),
        token=request.hub_token,
    )
    return JsonResponse(_full(request, collection))


def _optional(body: dict, *names: str) -> dict:
    return {name: body[name] for name in names if body.get(name) is not None}


@hf_endpoint(methods=("GET", "PATCH", "DELETE"))
def collection_detail(request: HttpRequest, owner: str, slug: str) -> JsonResponse:
    """``GET``, ``PATCH`` (answered as ``{"data": collection}``) and ``DELETE /api/collections/{slug}``."""
    write = request.method != "GET"
    collection = access_collection(user=request.user, owner=owner, slug=slug, write=write, token=request.hub_token)
    if request.method == "GET":
        return JsonResponse(_full(request, collection))
    if request.method == "DELETE":
        services.collection_delete(collection=collection)
        return JsonResponse({})
    fields = _optional(read_json(request), "title", "description", "private", "theme", "position")
    collection = services.collection_update(collection=collection, **fields)
    return JsonResponse({"data": _full(request, collection)})


@hf_endpoint(methods=("POST",))
def collection_items(request: HttpRequest, owner: str, slug: str) -> JsonResponse:
    """``POST /api/collections/{slug}/items`` ``{"item": {"id", "type"}, "note"?}``: the collection."""
    collection = access_collection(user=request.user, owner=owner, slug=slug, write=True, token=request.hub_token)
    body = read_json(request)
    item = body.get("item")
    if not isinstance(item, dict):
        raise ValidationError('\'item\' must be {"id": str, "type": str}.', fields={"item": ["Invalid."]})
    services.collection_item_add(
        user=request.user,
        collection=collection,
        kind=item.get("type"),
        item_id=item.get("id"),
        note=body.get("note") or "",
    )
    return JsonResponse(_full(request, collection))


@hf_endpoint(methods=("PATCH", "DELETE"))
def collection_item(request: HttpRequest, owner: str, slug: str, item_key: str) -> JsonResponse:
    """``PATCH`` ``{position?, note?}`` and ``DELETE /api/collections/{slug}/items/{item_object_id}``."""
    collection = access_collection(user=request.user, owner=owner, slug=slug, write=True, token=request.hub_token)
    item = collection_item_get(collection=collection, key=item_key)
    if request.method == "DELETE":
        services.collection_item_delete(collection=collection, item=item)
    else:
        fields = _optional(read_json(request), "note", "position")
        services.collection_item_update(collection=collection, item=item, **fields)
    return JsonResponse({})
