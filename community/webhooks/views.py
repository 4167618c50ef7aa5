"""Settings pages of webhooks: the list with a form to add one, and each hook's page with its
delivery log, a test button, redelivery of failed deliveries, enable/disable and delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import HubError, NotFound
from community.webhooks.choices import WatchKind, WebhookDomain
from community.webhooks.selectors import (
    webhook_deliveries_list,
    webhook_delivery_get,
    webhook_get,
    webhooks_list,
)
from community.webhooks.services import hooks
from community.webhooks.services.deliveries import webhook_delivery_redeliver, webhook_test_delivery


def _watched_from_text(text: str) -> list[dict]:
    """Lines ``type name`` (``model alice/tiny``, ``org acme``) as the services' watched items."""
    items = []
    for line in text.splitlines():
        if line.strip():
            kind, _, name = line.strip().partition(" ")
            items.append({"type": kind.strip(), "name": name.strip()})
    return items


def _own(request: HttpRequest, webhook_id: int):
    try:
        return webhook_get(user=request.user, webhook_id=webhook_id)
    except NotFound:
        raise Http404("No such webhook") from None


@login_required
@require_http_methods(["GET", "POST"])
def settings_webhooks(request: HttpRequest) -> HttpResponse:
    form = {"url": "", "watched": "", "domains": list(WebhookDomain.values), "secret": ""}
    error = None
    if request.method == "POST":
        form = {
            "url": request.POST.get("url", "").strip(),
            "watched": request.POST.get("watched", ""),
            "domains": request.POST.getlist("domains"),
            "secret": request.POST.get("secret", ""),
        }
        try:
            made = hooks.webhook_create(
                user=request.user, url=form["url"], watched=_watched_from_text(form["watched"]),
                domains=form["domains"], secret=form["secret"],
            )  # fmt: skip
        except HubError as problem:
            error = problem
        else:
            messages.success(request, "Webhook created.")
            return redirect("settings-webhook", webhook_id=made.pk)
    context = {
        "webhooks": webhooks_list(user=request.user), "form": form, "error": error, "section": "webhooks",
        "watch_kinds": WatchKind.values, "domains": WebhookDomain.choices,
        "suggested_secret": hooks.webhook_secret_generate(),
    }  # fmt: skip
    return render(request, "webhooks/settings_list.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
def settings_webhook(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = _own(request, webhook_id)
    page = Paginator(webhook_deliveries_list(webhook=webhook), 25).get_page(request.GET.get("page"))
    return render(request, "webhooks/settings_detail.html", {"webhook": webhook, "page": page, "section": "webhooks"})


@login_required
@require_POST
def settings_webhook_action(request: HttpRequest, webhook_id: int, action: str) -> HttpResponse:
    webhook = _own(request, webhook_id)
    if action == "delete":
        hooks.webhook_delete(webhook=webhook)
        messages.success(request, "Webhook deleted.")
        return redirect("settings-webhooks")
    if action == "test":
        delivery = webhook_test_delivery(webhook=webhook)
        delivery.refresh_from_db()
        messages.info(request, f"Test delivery {delivery.pk}: {delivery.state}.")
    else:
        hooks.webhook_set_disabled(webhook=webhook, disabled=action == "disable")
        messages.success(request, f"Webhook {action}d.")
    return redirect("settings-webhook", webhook_id=webhook.pk)


@login_required
@require_POST
def settings_webhook_redeliver(request: HttpRequest, webhook_id: int, delivery_id: int) -> HttpResponse:
    webhook = _own(request, webhook_id)
    try:
        delivery = webhook_delivery_redeliver(delivery=webhook_delivery_get(webhook=webhook, delivery_id=delivery_id))
    except NotFound:
        raise Http404("No such delivery") from None
    except HubError as problem:
        messages.error(request, problem.message)
    else:
        delivery.refresh_from_db()
        messages.info(request, f"Delivery {delivery.pk} sent again: {delivery.state}.")
    return redirect("settings-webhook", webhook_id=webhook.pk)
