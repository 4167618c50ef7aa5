"""REST API of moderation (``/api/v1/reports``, ``/api/v1/moderation/…``): reports, the
moderators' queues and actions, appeals, and the public log; over the same services and
selectors as the pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ValidationError
from common.inputs import MAX_INT, MAX_INT32
from common.pagination import PageNumberPagination
from common.timefmt import iso_z
from community.moderation import services
from community.moderation.choices import AppealStatus, Reason, ReportStatus, TargetKind
from community.moderation.models import MAX_TEXT
from community.moderation.selectors import (
    action_get,
    appeal_get,
    appeals_queue,
    is_moderator,
    moderation_log,
    public_label,
    public_link,
    report_get,
    reports_queue,
    target_resolve,
)


class IsModerator(BasePermission):
    """Moderators and staff (``User.can_moderate``); anonymous callers get 401, others 403."""

    message = "Only moderators may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and is_moderator(user=request.user))


class TargetInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    repo_type = serializers.ChoiceField(choices=["model", "dataset", "tutorial"], required=False, default="model")
    repo_id = serializers.CharField(required=False, default="", max_length=200)
    username = serializers.CharField(required=False, default="", max_length=100)
    num = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT32, allow_null=True, default=None)
    comment_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT, allow_null=True, default=None)


class PublicActionOutputSerializer(serializers.Serializer):
    """An entry of the public log: no note, no moderator, no reporter; private targets unnamed."""

    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    target_kind = serializers.CharField()
    target = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField()
    reason = serializers.CharField()
    reverts = serializers.IntegerField(source="reverts_id", allow_null=True)
    created_at = serializers.SerializerMethodField()

    def get_target(self, obj) -> str:
        return public_label(action=obj)

    def get_link(self, obj) -> str | None:
        return public_link(action=obj)

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)


class ActionOutputSerializer(PublicActionOutputSerializer):
    """An action as the moderators see it."""

    target = serializers.CharField(source="target_label")
    target_id = serializers.IntegerField()
    note = serializers.CharField()
    moderator = serializers.CharField(source="moderator.username", allow_null=True, default=None)
    report = serializers.IntegerField(source="report_id", allow_null=True)
    appeal = serializers.IntegerField(source="appeal_id", allow_null=True)


class ReportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    target_kind = serializers.CharField()
    target_id = serializers.IntegerField()
    target = serializers.CharField(source="target_label")
    reason = serializers.CharField()
    text = serializers.CharField()
    status = serializers.CharField()
    reporter = serializers.CharField(source="reporter.username")
    created_at = serializers.SerializerMethodField()

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)


class AppealOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    action = ActionOutputSerializer()
    appellant = serializers.CharField(source="appellant.username")
    text = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.SerializerMethodField()
    decided_at = serializers.SerializerMethodField()

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)

    def get_decided_at(self, obj) -> str | None:
        return iso_z(obj.decided_at)


def _page(view: APIView, request, queryset, serializer_class) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _status(request, choices, default: str) -> str:
    wanted = request.GET.get("status", default)
    if wanted not in choices.values:
        raise ValidationError(f"status must be one of {', '.join(choices.values)}.", fields={"status": ["Invalid."]})
    return wanted


class ReportCreateApi(APIView):
    """Anyone signed in reports a repository, a discussion, a comment or a user."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(TargetInputSerializer):
        reason = serializers.ChoiceField(choices=Reason.choices)
        text = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_TEXT)

    @extend_schema(request=InputSerializer, responses={201: ReportOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reason, text = values.pop("reason"), values.pop("text")
        target = target_resolve(user=request.user, **values)
        report = services.report_create(reporter=request.user, target=target, reason=reason, text=text)
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)


class ModerationLogApi(APIView):
    """The public log of every moderation action, newest first."""

    permission_classes = [AllowAny]
    pagination_class = PageNumberPagination

    @extend_schema(responses=PublicActionOutputSerializer(many=True))
    def get(self, request):
        return _page(self, request, moderation_log(), PublicActionOutputSerializer)


class ModerationReportListApi(APIView):
    """The moderators' queue of reports, by status (open first)."""

    permission_classes = [IsModerator]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(ReportStatus.values), default="open")],
        responses=ReportOutputSerializer(many=True),
    )
    def get(self, request):
        wanted = _status(request, ReportStatus, ReportStatus.OPEN)
        return _page(self, request, reports_queue(status=wanted), ReportOutputSerializer)


class ModerationReportDismissApi(APIView):
    """A moderator dismisses a report (logged, with a reason code and a note)."""

    permission_classes = [IsModerator]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=Reason.choices)
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_TEXT)

    @extend_schema(request=InputSerializer, responses=ActionOutputSerializer)
    def post(self, request, report_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.report_dismiss(
            moderator=request.user, report=report_get(report_id=report_id), **data.validated_data
        )
        return Response(ActionOutputSerializer(action).data)


class ModerationActionCreateApi(APIView):
    """A moderator acts: on the target of an open report (``report``) or on a target named here."""

    permission_classes = [IsModerator]

    class InputSerializer(serializers.Serializer):
        action = serializers.CharField(max_length=32)
        reason = serializers.ChoiceField(choices=Reason.choices)
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_TEXT)
        report = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT, allow_null=True, default=None)
        target = TargetInputSerializer(required=False, default=None, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: ActionOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        report = report_get(report_id=values["report"]) if values["report"] is not None else None
        if report is not None:
            target = services.stored_target(of=report)
        elif values["target"] is not None:
            target = target_resolve(user=request.user, include_suspended=True, **values["target"])
        else:
            raise ValidationError("Name a report or a target.", fields={"target": ["This field is required."]})
        action = services.action_take(
            moderator=request.user, kind=values["action"], target=target, reason=values["reason"],
            note=values["note"], report=report,
        )  # fmt: skip
        return Response(ActionOutputSerializer(action).data, status=status.HTTP_201_CREATED)


class AppealCreateApi(APIView):
    """The owner an action affects appeals it, once."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=MAX_TEXT)

    @extend_schema(request=InputSerializer, responses={201: AppealOutputSerializer})
    def post(self, request, action_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_create(
            user=request.user, action=action_get(action_id=action_id), text=data.validated_data["text"]
        )
        return Response(AppealOutputSerializer(appeal).data, status=status.HTTP_201_CREATED)


class ModerationAppealListApi(APIView):
    """The moderators' queue of appeals, by status (pending first)."""

    permission_classes = [IsModerator]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(AppealStatus.values), default="pending")],
        responses=AppealOutputSerializer(many=True),
    )
    def get(self, request):
        wanted = _status(request, AppealStatus, AppealStatus.PENDING)
        return _page(self, request, appeals_queue(status=wanted), AppealOutputSerializer)


class AppealDecideApi(APIView):
    """A moderator upholds an appeal's action or reverses it (both logged)."""

    permission_classes = [IsModerator]

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["uphold", "reverse"])
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_TEXT)

    @extend_schema(request=InputSerializer, responses=ActionOutputSerializer)
    def post(self, request, appeal_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.appeal_decide(
            moderator=request.user, appeal=appeal_get(appeal_id=appeal_id), **data.validated_data
        )
        return Response(ActionOutputSerializer(action).data)
