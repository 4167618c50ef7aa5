"""Deliveries: which hooks an event goes to, one HTTP attempt at a time, retries with exponential
backoff, redelivery and test deliveries.

Each (event, webhook) pair is one ``WebhookDelivery`` (a unique constraint), so an event reaches a
hook once however often it is dispatched. An attempt first claims the delivery with a conditional
UPDATE (pending → sending; a ``sending`` claim older than three timeouts belongs to a lost worker and
may be taken over); a delivery that succeeded is never claimed again, so nothing is delivered twice
after a success.

What each request carries (``webhook_headers``): ``Content-Type: application/json``; with a secret,
``X-Webhook-Secret: <secret>`` (what the Hub sends and ``huggingface_hub``'s receivers compare) and
``X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`` (for receivers that
verify the body instead); always ``X-Webhook-Id``, ``X-Webhook-Delivery`` (the delivery's id, stable
across retries), ``X-Webhook-Event`` (the payload's scope) and ``X-Webhook-Attempt`` (1, 2, …).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.errors import Conflict, HubError
from common.events import Event
from community.webhooks.choices import DeliveryState, WatchKind
from community.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from community.webhooks.services.hooks import webhook_url_check
from community.webhooks.services.payloads import PAYLOAD_VERSION, event_domain, event_payload, repo_shape
from hub.permissions import OrgAction
from hub.selectors import namespace_people
from registry.events import repo_snapshot
from registry.models import Repo

MAX_RESPONSE_CHARS = 2000
USER_AGENT = "LLM-Hub-Webhooks/1"


def webhook_backoff_seconds(*, attempt: int) -> int:
    """How long to wait after failed attempt number ``attempt`` (1, 2, …): BACKOFF · 2^(attempt−1),
    at most BACKOFF_MAX."""
    return min(settings.HUB_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1), settings.HUB_WEBHOOK_BACKOFF_MAX_SECONDS)


def webhooks_for_event(*, event: Event) -> list[Webhook]:
    """Enabled hooks watching ``event``'s repository or its namespace (or, for a move, its former
    id) in the event's domain, whose owner may still read the repository."""
    domain = event_domain(event)
    if domain is None or event.repo is None:
        return []
    repo = event.repo
    keys = {
        f"{repo.type}:{repo.repo_id.lower()}",
        *(f"{k}:{repo.namespace.lower()}" for k in (WatchKind.USER, WatchKind.ORG)),
    }
    if repo.former_id:
        keys |= {f"{repo.type}:{repo.former_id.lower()}"}
        keys |= {f"{k}:{repo.former_id.split('/')[0].lower()}" for k in (WatchKind.USER, WatchKind.ORG)}
    hooks = [
        hook for hook in Webhook.objects.filter(disabled=False, watched__key__in=keys).distinct().order_by("pk")
        if domain in hook.domains
    ]  # fmt: skip
    if repo.private and hooks:
        readers = namespace_people(namespace=repo.namespace, action=OrgAction.READ_PRIVATE_REPOS)
        hooks = [hook for hook in hooks if hook.owner_id in readers]
    return hooks


def _with_hook(payload: dict, webhook: Webhook) -> dict:
    return {**payload, "webhook": {"id": str(webhook.pk), "version": PAYLOAD_VERSION}}


def webhook_deliveries_create(*, event: Event) -> list[int]:
    """One pending delivery per hook concerned by ``event``; the ids still pending (safe to call twice)."""
    payload = event_payload(event)
    hooks = webhooks_for_event(event=event) if payload is not None else []
    if not hooks:
        return []
    scope = payload["event"]["scope"]
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(webhook=hook, event_id=event.id, scope=scope, payload=_with_hook(payload, hook))
            for hook in hooks
        ],
        ignore_conflicts=True,
    )
    pending = WebhookDelivery.objects.filter(event_id=event.id, webhook__in=hooks, state=DeliveryState.PENDING)
    return list(pending.order_by("pk").values_list("pk", flat=True))


def webhook_headers(*, webhook: Webhook, delivery: WebhookDelivery, body: bytes, attempt: int) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(webhook.pk),
        "X-Webhook-Delivery": str(delivery.pk),
        "X-Webhook-Event": delivery.scope,
        "X-Webhook-Attempt": str(attempt),
    }
    if webhook.secret:
        headers["X-Webhook-Secret"] = webhook.secret
        digest = hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Webhook-Signature"] = f"sha256={digest}"
    return headers


def webhook_delivery_attempt(*, delivery_id: int, retry: bool = True) -> WebhookAttempt | None:
    """Make one attempt of ``delivery_id`` if it is pending; None when there is nothing to do (it
    succeeded, failed for good, or another worker holds it). With ``retry``, a failed attempt
    leaves the delivery pending with ``retry_in`` seconds to wait, until HUB_WEBHOOK_MAX_ATTEMPTS;
    without, it fails at once (redeliveries and tests, which people watch happen)."""
    now = timezone.now()
    stale = now - timedelta(seconds=3 * settings.HUB_WEBHOOK_TIMEOUT_SECONDS)
    claimable = Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.SENDING, claimed_at__lt=stale)
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook, number = delivery.webhook, delivery.attempts
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = webhook_headers(webhook=webhook, delivery=delivery, body=body, attempt=number)
    status_code, text, error, refused = None, "", "", False
    started = time.monotonic()
    try:
        if webhook.disabled:
            raise Conflict("The webhook is disabled.")
        webhook_url_check(url=webhook.url)
        response = httpx.post(
            webhook.url, content=body, headers=headers, timeout=settings.HUB_WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
        )  # fmt: skip
        status_code, text = response.status_code, response.text[:MAX_RESPONSE_CHARS]
    except HubError as problem:
        error, refused = problem.message, True
    except httpx.HTTPError as problem:
        error = f"{type(problem).__name__}: {problem}"[:1000]
    duration_ms = int((time.monotonic() - started) * 1000)
    retry_in = None
    if status_code is not None and 200 <= status_code < 300:
        state = DeliveryState.SUCCEEDED
    elif refused or not retry or number >= settings.HUB_WEBHOOK_MAX_ATTEMPTS:
        state = DeliveryState.FAILED
    else:
        state, retry_in = DeliveryState.PENDING, webhook_backoff_seconds(attempt=number)
    logged = {**headers, "X-Webhook-Secret": "…"} if "X-Webhook-Secret" in headers else headers
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=number, started_at=now, duration_ms=duration_ms, request_headers=logged,
            status_code=status_code, response_body=text, error=error, retry_in=retry_in,
        )  # fmt: skip
        finished = timezone.now() if state != DeliveryState.PENDING else None
        WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(
            state=state, finished_at=finished
        )
    return attempt


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue one more attempt of a failed delivery (``Conflict`` for one that succeeded or is under way)."""
    if delivery.state != DeliveryState.FAILED:
        raise Conflict(f"Delivery {delivery.pk} is {delivery.state}; only failed deliveries are sent again.")
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, finished_at=None
    )
    from community.webhooks.tasks import webhook_deliver_task

    webhook_deliver_task.delay_on_commit(delivery.pk, retry=False)
    delivery.refresh_from_db()
    return delivery


def webhook_test_delivery(*, webhook: Webhook) -> WebhookDelivery:
    """A delivery of scope ``webhook.test`` describing the hook's first watched repository (or, for a
    namespace, a repository-shaped object named after it), sent once without retries."""
    first = webhook.watched.order_by("pk").first()
    namespace, _, name = first.name.partition("/")
    repo = Repo.objects.filter(type=first.kind, namespace__name__iexact=namespace, name__iexact=name).first()
    if repo is not None:
        shape = repo_shape(repo_snapshot(repo=repo))
    else:
        shape = {"id": "", "type": "model", "name": first.name, "private": False, "owner": {"id": namespace},
                 "url": {"web": f"{settings.HUB_SITE_URL.rstrip('/')}/{first.name}"}}  # fmt: skip
    payload = _with_hook({"event": {"action": "update", "scope": "webhook.test"}, "repo": shape}, webhook)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event_id=uuid.uuid4().hex, scope="webhook.test", payload=payload
    )
    from community.webhooks.tasks import webhook_deliver_task

    webhook_deliver_task.delay_on_commit(delivery.pk, retry=False)
    return delivery
