from django.urls import path

from community.webhooks import apis, hf, views

# Mounted under ``api/`` (the HF-compatible API).
hf_urlpatterns = [
    path("settings/webhooks", hf.webhook_list_create, name="hf-webhooks"),
    path("settings/webhooks/<id:webhook_id>", hf.webhook_detail, name="hf-webhook"),
    path("settings/webhooks/<id:webhook_id>/enable", hf.webhook_enable, name="hf-webhook-enable"),
    path("settings/webhooks/<id:webhook_id>/disable", hf.webhook_disable, name="hf-webhook-disable"),
]

# Mounted under ``api/v1/``.
api_urlpatterns = [
    path("webhooks", apis.WebhookListCreateApi.as_view(), name="api-webhooks"),
    path("webhooks/<id:webhook_id>", apis.WebhookDetailApi.as_view(), name="api-webhook"),
    path("webhooks/<id:webhook_id>/deliveries", apis.WebhookDeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path(
        "webhooks/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver",
        apis.WebhookRedeliverApi.as_view(),
        name="api-webhook-redeliver",
    ),
    path("webhooks/<id:webhook_id>/test", apis.WebhookTestApi.as_view(), name="api-webhook-test"),
]

page_urlpatterns = [
    path("settings/webhooks", views.settings_webhooks, name="settings-webhooks"),
    path("settings/webhooks/<id:webhook_id>", views.settings_webhook, name="settings-webhook"),
    *(
        path(
            f"settings/webhooks/<id:webhook_id>/{action}",
            views.settings_webhook_action,
            {"action": action},
            name=f"settings-webhook-{action}",
        )
        for action in ("test", "enable", "disable", "delete")
    ),
    path(
        "settings/webhooks/<id:webhook_id>/deliveries/<id:delivery_id>/redeliver",
        views.settings_webhook_redeliver,
        name="settings-webhook-redeliver",
    ),
]
