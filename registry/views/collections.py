"""Collection pages: browse, create, read, edit (settings, items, notes, order), upvote, delete.

Every change goes through ``registry.services.collections``, the same services the HF API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import HubError, NotFound, Unauthenticated, ValidationError
from frontend.forms import CollectionForm, CollectionItemForm, CollectionPickForm
from frontend.pages import page_view
from hub.permissions import OrgAction, role_allows
from hub.selectors import namespace_get, user_memberships_list
from registry.collection_kinds import ITEM_KINDS, item_kind
from registry.selectors.collections import (
    COLLECTION_SORTS,
    LISTING_ITEMS,
    access_collection,
    access_collection_by_key,
    collection_item_get,
    collection_list,
    collection_upvoted,
    collections_curated_by,
    collections_items,
    namespace_can_curate,
)
from registry.services import collections as services

PAGE_SIZE = 30


def _owners(user) -> list[str]:
    """The namespaces ``user`` may create collections in: their own, then their organizations'."""
    organizations = [
        m.organization.name for m in user_memberships_list(user=user) if role_allows(m.role, OrgAction.WRITE_REPO)
    ]
    return [user.username, *organizations]


def _kinds() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in ITEM_KINDS.values()]


def _apply(form, change: Callable[[dict], Any]) -> Any:
    """``change(values)`` for a valid form; a service's refusal lands on the form (then None)."""
    if not form.is_valid():
        return None
    try:
        return change(form.cleaned_data)
    except HubError as error:
        for field, messages in (error.fields or {None: [error.message]}).items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        return None


@require_GET
@page_view
def collection_list_page(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "")
    sort = sort if sort in COLLECTION_SORTS else ""
    owner = request.GET.get("owner", "").strip()
    queryset = collection_list(user=request.user, owners=[owner] if owner else [], sort=sort)
    page = list(queryset[:PAGE_SIZE])
    previews = collections_items(user=request.user, collections=page, limit=LISTING_ITEMS)
    context = {
        "collections": [(collection, previews[collection.pk]) for collection in page],
        "sort": sort,
        "owner": owner,
        "sorts": [("", "Default"), ("lastModified", "Recently updated"), ("upvotes", "Most upvoted")],
    }
    return render(request, "registry/collections/list.html", context)


@require_http_methods(["GET", "POST"])
@page_view
def collection_new(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to create collections.")
    form = CollectionForm(request.POST or None, owners=_owners(request.user))
    if request.method == "POST":
        collection = _apply(
            form,
            lambda values: services.collection_create(
                user=request.user,
                namespace=namespace_get(name=values["owner"]),
                title=values["title"],
                description=values["description"],
                private=values["visibility"] == "private",
            ),
        )
        if collection is not None:
            return redirect(collection.web_path)
    status = 400 if form.errors else 200
    return render(request, "registry/collections/new.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@page_view
def collection_add_to(request: HttpRequest) -> HttpResponse:
    """Add one object (``?type=model&item=ns/name``, as the repository pages link here) to one of
    the visitor's collections."""
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to curate collections.")
    kind, item_id = request.GET.get("type", ""), request.GET.get("item", "")
    target = item_kind(kind).find(request.user, item_id)
    if target is None:
        raise NotFound(f"No {kind} '{item_id}' was found.")
    choices = [(c.key, f"{c.namespace.name} / {c.title}") for c in collections_curated_by(user=request.user)]
    form = CollectionPickForm(request.POST or None, collections=choices)
    if request.method == "POST":
        collection = _apply(
            form,
            lambda values: (
                services.collection_item_add(
                    user=request.user,
                    collection=access_collection_by_key(user=request.user, key=values["collection"], write=True),
                    kind=kind,
                    item_id=item_id,
                    note=values["note"],
                ).collection
            ),
        )
        if collection is not None:
            return redirect(collection.web_path)
    context = {"form": form, "target": target, "kind": item_kind(kind)}
    return render(request, "registry/collections/add_to.html", context, status=400 if form.errors else 200)


@require_GET
@page_view
def collection_page(request: HttpRequest, owner: str, slug: str) -> HttpResponse:
    collection = access_collection(user=request.user, owner=owner, slug=slug)
    if slug != collection.slug.split("/", 1)[1] or owner != collection.namespace.name:
        return redirect(collection.web_path, permanent=True)  # an old title: send readers to the current slug
    return _render_collection(request, collection)


def _render_collection(request: HttpRequest, collection, *, status: int = 200, **forms) -> HttpResponse:
    can_edit = namespace_can_curate(user=request.user, namespace=collection.namespace)
    initial = {
        "title": collection.title,
        "description": collection.description,
        "visibility": "private" if collection.private else "public",
    }
    context = {
        "collection": collection,
        "items": collections_items(user=request.user, collections=[collection])[collection.pk],
        "upvoted": collection_upvoted(user=request.user, collection=collection),
        "can_edit": can_edit,
        "settings_form": forms.get("settings_form") or CollectionForm(initial=initial) if can_edit else None,
        "item_form": forms.get("item_form") or CollectionItemForm(kinds=_kinds()) if can_edit else None,
    }
    return render(request, "registry/collections/collection.html", context, status=status)


def _editable(request: HttpRequest, owner: str, slug: str):
    return access_collection(user=request.user, owner=owner, slug=slug, write=True)


@require_POST
@page_view
def collection_settings(request: HttpRequest, owner: str, slug: str) -> HttpResponse:
    collection = _editable(request, owner, slug)
    form = CollectionForm(request.POST)
    updated = _apply(
        form,
        lambda values: services.collection_update(
            collection=collection,
            title=values["title"],
            description=values["description"],
            private=values["visibility"] == "private",
        ),
    )
    if updated is not None:
        return redirect(updated.web_path)
    return _render_collection(request, collection, status=400, settings_form=form)


@require_POST
@page_view
def collection_item_add(request: HttpRequest, owner: str, slug: str) -> HttpResponse:
    collection = _editable(request, owner, slug)
    form = CollectionItemForm(request.POST, kinds=_kinds())
    added = _apply(
        form,
        lambda values: services.collection_item_add(
            user=request.user,
            collection=collection,
            kind=values["type"],
            item_id=values["item"].strip(),
            note=values["note"],
        ),
    )
    if added is not None:
        return redirect(collection.web_path)
    return _render_collection(request, collection, status=400, item_form=form)


@require_POST
@page_view
def collection_item_change(request: HttpRequest, owner: str, slug: str, item_key: str) -> HttpResponse:
    """One item: ``action`` is ``note`` (with ``note``), ``up``, ``down`` or ``remove``."""
    collection = _editable(request, owner, slug)
    item = collection_item_get(collection=collection, key=item_key)
    action = request.POST.get("action")
    if action == "remove":
        services.collection_item_delete(collection=collection, item=item)
    elif action in {"up", "down"}:
        position = max(0, item.position - 1) if action == "up" else item.position + 1
        services.collection_item_update(collection=collection, item=item, position=position)
    elif action == "note":
        services.collection_item_update(collection=collection, item=item, note=request.POST.get("note", ""))
    else:
        raise ValidationError("Unknown action: use note, up, down or remove.")
    return redirect(collection.web_path)


@require_POST
@page_view
def collection_upvote(request: HttpRequest, owner: str, slug: str) -> HttpResponse:
    collection = access_collection(user=request.user, owner=owner, slug=slug)
    if not request.user.is_authenticated:
        raise Unauthenticated("Log in to upvote collections.")
    upvoted = request.POST.get("action") != "withdraw"
    services.collection_upvote_set(user=request.user, collection=collection, upvoted=upvoted)
    return redirect(collection.web_path)


@require_POST
@page_view
def collection_delete(request: HttpRequest, owner: str, slug: str) -> HttpResponse:
    collection = _editable(request, owner, slug)
    owner_name = collection.namespace.name
    services.collection_delete(collection=collection)
    return redirect(f"{get_script_prefix()}collections?owner={owner_name}")
