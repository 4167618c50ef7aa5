"""Webhooks: create, update, enable or disable, delete; who may watch what; which URLs are allowed.

A webhook watches repositories (the repository's admins may watch it) and namespaces (a user
watches their own; an organization's admins watch it), and is owned by the person who made it:
only they see, change or delete it.

URLs must be ``http(s)`` and, unless ``HUB_WEBHOOK_ALLOW_PRIVATE_URLS`` is set, every address
their host resolves to must be public — no loopback, private, link-local, shared or reserved
ranges — checked when the hook is saved and again before each attempt (a name can be pointed
elsewhere later). Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import secrets as secrets_module
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from common.errors import PermissionDenied, ValidationError
from community.webhooks.choices import WatchKind, WebhookDomain
from community.webhooks.models import Webhook, WebhookWatch
from hub.choices import NamespaceKind
from hub.models import Namespace
from hub.permissions import OrgAction, role_allows
from hub.selectors import membership_role
from registry.access import Permission, access_repo

MAX_WATCHED = 50
MAX_URL = 2000
MAX_SECRET = 200


def webhook_url_check(*, url: str) -> str:
    """``url`` if the hub may call it, else a ``ValidationError`` saying why."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise ValidationError(f"url must be 1 to {MAX_URL} characters.", fields={"url": ["Invalid URL."]})
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise ValidationError("url must be an http or https URL without credentials.", fields={"url": ["Invalid URL."]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError("url has an invalid port.", fields={"url": ["Invalid port."]}) from None
    if settings.HUB_WEBHOOK_ALLOW_PRIVATE_URLS:
        return url
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        raise ValidationError(
            f"The host {parts.hostname} does not resolve.", fields={"url": ["Unknown host."]}
        ) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        if not (mapped or ip).is_global or ip.is_multicast:
            raise ValidationError(
                f"The host {parts.hostname} resolves to a private or reserved address ({address}); "
                "webhooks call public addresses only.",
                fields={"url": ["Private address."]},
            )
    return url


def _watch_check(*, user, kind: str, name: str) -> tuple[WatchKind, str]:
    """Refuse watching what ``user`` does not administer; the canonical spelling of ``name``."""
    try:
        kind = WatchKind(kind)
    except ValueError:
        raise ValidationError(
            f"watched type must be one of {', '.join(WatchKind.values)}.", fields={"watched": ["Invalid type."]}
        ) from None
    if not isinstance(name, str) or not name or len(name) > 200:
        raise ValidationError("watched name must be 1 to 200 characters.", fields={"watched": ["Invalid name."]})
    if kind.is_repo:
        namespace, _, repo_name = name.partition("/")
        if not repo_name:
            raise ValidationError(
                f"Watch a repository by its id, namespace/name: '{name}'.", fields={"watched": ["Invalid name."]}
            )
        repo = access_repo(user=user, repo_type=kind.value, namespace=namespace, name=repo_name, need=Permission.ADMIN)
        return kind, repo.repo_id
    found = Namespace.objects.filter(name__iexact=name).select_related("organization").first()
    wanted = NamespaceKind.USER if kind == WatchKind.USER else NamespaceKind.ORGANIZATION
    if found is None or found.kind != wanted:
        raise ValidationError(f"No {kind.label.lower()} called {name}.", fields={"watched": ["Not found."]})
    if kind == WatchKind.USER and found.pk != user.namespace_id:
        raise PermissionDenied(f"You can watch your own namespace only, not {found.name}.")
    if kind == WatchKind.ORG and not role_allows(
        membership_role(user=user, organization=found.organization), OrgAction.MANAGE_REPO
    ):
        raise PermissionDenied(f"Watching {found.name} needs the 'admin' role in it.")
    return kind, found.name


def _domains(domains) -> list[str]:
    if not isinstance(domains, list) or not domains or any(d not in WebhookDomain.values for d in domains):
        raise ValidationError(
            "domains must be a non-empty list of 'repo' and 'discussion'.", fields={"domains": ["Invalid domains."]}
        )
    return sorted(set(domains))


def _secret(secret) -> str:
    if secret is None:
        return ""
    if not isinstance(secret, str) or len(secret) > MAX_SECRET:
        raise ValidationError(
            f"secret must be a string of at most {MAX_SECRET} characters.", fields={"secret": ["Invalid."]}
        )
    return secret


def _watched(*, user, watched) -> list[tuple[WatchKind, str]]:
    if not isinstance(watched, list) or not 1 <= len(watched) <= MAX_WATCHED:
        raise ValidationError(
            f"watched must list 1 to {MAX_WATCHED} items.", fields={"watched": [f"1 to {MAX_WATCHED} items."]}
        )
    items: dict[str, tuple[WatchKind, str]] = {}
    for item in watched:
        if not isinstance(item, dict):
            raise ValidationError("Each watched item is an object {type, name}.", fields={"watched": ["Invalid item."]})
        kind, name = _watch_check(user=user, kind=item.get("type"), name=item.get("name"))
        items[f"{kind.value}:{name.lower()}"] = (kind, name)
    return list(items.values())


def _replace_watched(*, webhook: Webhook, items: list[tuple[WatchKind, str]]) -> None:
    webhook.watched.all().delete()
    WebhookWatch.objects.bulk_create(
        WebhookWatch(webhook=webhook, kind=kind, name=name, key=f"{kind.value}:{name.lower()}") for kind, name in items
    )


def webhook_create(*, user, url: str, watched: list, domains: list | None = None, secret: str | None = None) -> Webhook:
    """A webhook of ``user`` calling ``url`` for ``domains`` (both by default) of ``watched``."""
    url = webhook_url_check(url=url)
    items = _watched(user=user, watched=watched)
    domains = _domains(domains if domains is not None else list(WebhookDomain.values))
    if Webhook.objects.filter(owner=user).count() >= settings.HUB_MAX_WEBHOOKS_PER_USER:
        raise ValidationError(f"You already have {settings.HUB_MAX_WEBHOOKS_PER_USER} webhooks; delete one first.")
    with transaction.atomic():
        webhook = Webhook.objects.create(owner=user, url=url, secret=_secret(secret), domains=domains)
        _replace_watched(webhook=webhook, items=items)
    return webhook


def webhook_update(
    *, webhook: Webhook, user, url: str | None = None, watched: list | None = None, domains: list | None = None,
    secret: str | None = None,
) -> Webhook:  # fmt: skip
    """Change what is given. An empty ``watched`` leaves the list as it is: the stock client sends
    ``"watched": []`` whenever the caller changes something else (HF_PROTOCOL.md §7.5)."""
    if url is not None:
        webhook.url = webhook_url_check(url=url)
    if domains is not None:
        webhook.domains = _domains(domains)
    if secret is not None:
        webhook.secret = _secret(secret)
    items = _watched(user=user, watched=watched) if watched else None
    with transaction.atomic():
        webhook.save()
        if items is not None:
            _replace_watched(webhook=webhook, items=items)
    return webhook


def webhook_set_disabled(*, webhook: Webhook, disabled: bool) -> Webhook:
    webhook.disabled = disabled
    webhook.save(update_fields=["disabled", "updated_at"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def webhook_secret_generate() -> str:
    """A fresh secret for the settings page's suggestion."""
    return secrets_module.token_urlsafe(24)
