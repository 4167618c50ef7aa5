"""The HF-compatible webhook endpoints the stock client calls (HF_PROTOCOL.md §7.5):
``/api/settings/webhooks`` (list: a bare array; create), ``/api/settings/webhooks/{id}`` (get,
update by POST, delete) and ``…/{id}/enable|disable``. One object shape, ``{"webhook": {...}}``
around each single answer. Job webhooks (``jobSourceId``) are not offered: a 400 says so."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from common.errors import ValidationError
from common.inputs import value_str
from community.webhooks.models import Webhook
from community.webhooks.selectors import webhook_get, webhooks_list
from community.webhooks.services import hooks
from hub.hf import hf_endpoint, read_json, require_user


def webhook_shape(webhook: Webhook) -> dict:
    return {
        "id": str(webhook.pk),
        "url": webhook.url,
        "job": None,
        "watched": [{"type": item.kind, "name": item.name} for item in webhook.watched.all()],
        "domains": list(webhook.domains),
        "secret": webhook.secret or None,
        "disabled": webhook.disabled,
    }


def _refuse_jobs(body: dict) -> None:
    if body.get("jobSourceId") is not None or body.get("secrets") is not None:
        raise ValidationError(
            "Job webhooks are not available on this hub; give a url.", fields={"jobSourceId": ["Not supported."]}
        )


def _one(webhook: Webhook) -> JsonResponse:
    return JsonResponse({"webhook": webhook_shape(webhook)})


@hf_endpoint(methods=("GET", "POST"))
def webhook_list_create(request: HttpRequest) -> JsonResponse:
    """``GET``: the caller's webhooks (not paginated); ``POST {watched, url, domains?, secret?}``."""
    user = require_user(request)
    if request.method == "GET":
        return JsonResponse([webhook_shape(hook) for hook in webhooks_list(user=user)], safe=False)
    body = read_json(request)
    _refuse_jobs(body)
    created = hooks.webhook_create(
        user=user, url=value_str(body, "url", max_length=hooks.MAX_URL), watched=body.get("watched"),
        domains=body.get("domains"), secret=value_str(body, "secret", default=None, max_length=hooks.MAX_SECRET),
    )  # fmt: skip
    return _one(webhook_get(user=user, webhook_id=created.pk))


@hf_endpoint(methods=("GET", "POST", "DELETE"))
def webhook_detail(request: HttpRequest, webhook_id: int) -> JsonResponse:
    """``GET`` one webhook; ``POST`` changes it (an empty ``watched`` keeps the list); ``DELETE``."""
    user = require_user(request)
    webhook = webhook_get(user=user, webhook_id=webhook_id)
    if request.method == "GET":
        return _one(webhook)
    if request.method == "DELETE":
        hooks.webhook_delete(webhook=webhook)
        return JsonResponse({})
    body = read_json(request)
    _refuse_jobs(body)
    hooks.webhook_update(
        webhook=webhook, user=user, url=value_str(body, "url", default=None, max_length=hooks.MAX_URL),
        watched=body.get("watched"), domains=body.get("domains"),
        secret=value_str(body, "secret", default=None, max_length=hooks.MAX_SECRET),
    )  # fmt: skip
    return _one(webhook_get(user=user, webhook_id=webhook.pk))


@hf_endpoint(methods=("POST",))
def webhook_enable(request: HttpRequest, webhook_id: int) -> JsonResponse:
    user = require_user(request)
    hooks.webhook_set_disabled(webhook=webhook_get(user=user, webhook_id=webhook_id), disabled=False)
    return _one(webhook_get(user=user, webhook_id=webhook_id))


@hf_endpoint(methods=("POST",))
def webhook_disable(request: HttpRequest, webhook_id: int) -> JsonResponse:
    user = require_user(request)
    hooks.webhook_set_disabled(webhook=webhook_get(user=user, webhook_id=webhook_id), disabled=True)
    return _one(webhook_get(user=user, webhook_id=webhook_id))
