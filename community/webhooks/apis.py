"""REST API of webhooks (``/api/v1/webhooks…``): the caller's own hooks, their delivery log,
redelivery and test deliveries — over the same services as the HF endpoints and the settings page."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import PageNumberPagination
from common.timefmt import iso_z
from community.webhooks.choices import WatchKind, WebhookDomain
from community.webhooks.selectors import (
    webhook_deliveries_list,
    webhook_delivery_get,
    webhook_get,
    webhooks_list,
)
from community.webhooks.services import hooks
from community.webhooks.services.deliveries import webhook_delivery_redeliver, webhook_test_delivery


class WatchedSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=WatchKind.choices)
    name = serializers.CharField(max_length=200)


class WebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    url = serializers.CharField()
    watched = serializers.SerializerMethodField()
    domains = serializers.ListField(child=serializers.CharField())
    has_secret = serializers.SerializerMethodField()
    disabled = serializers.BooleanField()
    created_at = serializers.SerializerMethodField()

    def get_watched(self, obj) -> list[dict]:
        return [{"type": item.kind, "name": item.name} for item in obj.watched.all()]

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)


class AttemptOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.SerializerMethodField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    retry_in = serializers.IntegerField(allow_null=True, help_text="Seconds until the next attempt, if any.")
    request_headers = serializers.DictField(child=serializers.CharField())
    response_body = serializers.CharField()

    def get_started_at(self, obj) -> str:
        return iso_z(obj.started_at)


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    event_id = serializers.CharField()
    scope = serializers.CharField()
    state = serializers.CharField()
    attempts = serializers.IntegerField()
    payload = serializers.JSONField()
    created_at = serializers.SerializerMethodField()
    log = AttemptOutputSerializer(many=True)

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=hooks.MAX_URL)
    watched = WatchedSerializer(many=True)
    domains = serializers.ListField(child=serializers.ChoiceField(choices=WebhookDomain.choices), required=False)
    secret = serializers.CharField(max_length=hooks.MAX_SECRET, required=False, allow_blank=True)


class WebhookApiView(APIView):
    permission_classes = [IsAuthenticated]


class WebhookListCreateApi(WebhookApiView):
    """The caller's webhooks; create one watching repositories or namespaces they administer."""

    pagination_class = PageNumberPagination

    @extend_schema(responses=WebhookOutputSerializer(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(webhooks_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(WebhookOutputSerializer(page, many=True).data)

    @extend_schema(request=WebhookInputSerializer, responses={201: WebhookOutputSerializer})
    def post(self, request):
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        made = hooks.webhook_create(user=request.user, **data.validated_data)
        return Response(WebhookOutputSerializer(made).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(WebhookApiView):
    """One webhook of the caller: read, change (what is given; ``disabled`` too), delete."""

    class InputSerializer(WebhookInputSerializer):
        url = serializers.CharField(max_length=hooks.MAX_URL, required=False)
        watched = WatchedSerializer(many=True, required=False)
        disabled = serializers.BooleanField(required=False)

    @extend_schema(responses=WebhookOutputSerializer)
    def get(self, request, webhook_id: int):
        return Response(WebhookOutputSerializer(webhook_get(user=request.user, webhook_id=webhook_id)).data)

    @extend_schema(request=InputSerializer, responses=WebhookOutputSerializer)
    def patch(self, request, webhook_id: int):
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        disabled = values.pop("disabled", None)
        hooks.webhook_update(webhook=webhook, user=request.user, **values)
        if disabled is not None:
            hooks.webhook_set_disabled(webhook=webhook, disabled=disabled)
        return Response(WebhookOutputSerializer(webhook_get(user=request.user, webhook_id=webhook_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, webhook_id: int):
        hooks.webhook_delete(webhook=webhook_get(user=request.user, webhook_id=webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(WebhookApiView):
    """The delivery log of one webhook, newest first: payloads, states and every attempt."""

    pagination_class = PageNumberPagination

    @extend_schema(responses=DeliveryOutputSerializer(many=True))
    def get(self, request, webhook_id: int):
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(webhook_deliveries_list(webhook=webhook), request, view=self)
        return paginator.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class WebhookRedeliverApi(WebhookApiView):
    """Send a failed delivery once more (409 for one that succeeded)."""

    @extend_schema(request=None, responses=DeliveryOutputSerializer)
    def post(self, request, webhook_id: int, delivery_id: int):
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        delivery = webhook_delivery_redeliver(delivery=webhook_delivery_get(webhook=webhook, delivery_id=delivery_id))
        return Response(DeliveryOutputSerializer(webhook_delivery_get(webhook=webhook, delivery_id=delivery.pk)).data)


class WebhookTestApi(WebhookApiView):
    """Send a test delivery (scope ``webhook.test``) now."""

    @extend_schema(request=None, responses={201: DeliveryOutputSerializer})
    def post(self, request, webhook_id: int):
        webhook = webhook_get(user=request.user, webhook_id=webhook_id)
        delivery = webhook_test_delivery(webhook=webhook)
        return Response(
            DeliveryOutputSerializer(webhook_delivery_get(webhook=webhook, delivery_id=delivery.pk)).data,
            status=status.HTTP_201_CREATED,
        )
