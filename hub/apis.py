"""REST API of the hub app (``/api/v1/``): thin adapters over services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import PageNumberPagination
from common.throttling import client_ip
from hub.choices import OrgRole, TokenRole
from hub.selectors import (
    AuditFilters,
    audit_log_of_organization,
    organization_get_by_name,
    organization_members_list,
    token_list,
    user_get_by_name,
    user_memberships_list,
)
from hub.services.accounts import user_create
from hub.services.login_throttle import signup_attempt_check
from hub.services.organizations import (
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
    organization_leave,
)
from hub.services.tokens import token_create, token_revoke


class OrganizationSummarySerializer(serializers.Serializer):
    name = serializers.CharField(source="organization.name")
    fullname = serializers.CharField(source="organization.fullname")
    role = serializers.CharField()


class UserOutputSerializer(serializers.Serializer):
    name = serializers.CharField(source="username")
    fullname = serializers.CharField()
    bio = serializers.CharField()
    homepage = serializers.CharField()
    date_joined = serializers.DateTimeField()


def _paginate(view: APIView, request, queryset, serializer_class) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class UserCreateApi(APIView):
    """Sign up through the API."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=39)
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=256, write_only=True)
        fullname = serializers.CharField(max_length=100, required=False, default="")

    @extend_schema(request=InputSerializer, responses={201: UserOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signup_attempt_check(ip=client_ip(request))
        user = user_create(**data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    """The authenticated user with their organizations."""

    permission_classes = [IsAuthenticated]

    class OutputSerializer(UserOutputSerializer):
        email = serializers.CharField()
        organizations = serializers.SerializerMethodField()

        def get_organizations(self, user) -> list[dict]:
            return OrganizationSummarySerializer(user_memberships_list(user=user), many=True).data

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)


class UserDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request, name: str):
        return Response(UserOutputSerializer(user_get_by_name(name=name)).data)


class OrganizationOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    fullname = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrganizationCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=39)
        fullname = serializers.CharField(max_length=100, required=False, default="")
        description = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: OrganizationOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = organization_create(creator=request.user, **data.validated_data)
        return Response(OrganizationOutputSerializer(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=OrganizationOutputSerializer)
    def get(self, request, name: str):
        return Response(OrganizationOutputSerializer(organization_get_by_name(name=name)).data)


class MemberOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    fullname = serializers.CharField(source="user.fullname")
    role = serializers.CharField()
    created_at = serializers.DateTimeField()


class RoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=OrgRole.choices)


class OrganizationMembersApi(APIView):
    """List the members of an organization, or add one (admins)."""

    pagination_class = PageNumberPagination

    class InputSerializer(RoleInputSerializer):
        username = serializers.CharField(max_length=39)

    @extend_schema(responses=MemberOutputSerializer(many=True))
    def get(self, request, name: str):
        organization = organization_get_by_name(name=name)
        return _paginate(self, request, organization_members_list(organization=organization), MemberOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: MemberOutputSerializer})
    def post(self, request, name: str):
        organization = organization_get_by_name(name=name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_add(actor=request.user, organization=organization, **data.validated_data)
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class OrganizationMemberDetailApi(APIView):
    """Change a member's role or remove them (admins)."""

    @extend_schema(request=RoleInputSerializer, responses=MemberOutputSerializer)
    def patch(self, request, name: str, username: str):
        organization = organization_get_by_name(name=name)
        data = RoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_change_role(
            actor=request.user, organization=organization, username=username, role=data.validated_data["role"]
        )
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, name: str, username: str):
        organization = organization_get_by_name(name=name)
        membership_remove(actor=request.user, organization=organization, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationLeaveApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request, name: str):
        organization_leave(user=request.user, organization=organization_get_by_name(name=name))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class TokenListCreateApi(APIView):
    """The caller's active tokens; creating one returns its secret once, in ``token``."""

    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        role = serializers.ChoiceField(choices=TokenRole.choices)

    class CreatedSerializer(TokenOutputSerializer):
        token = serializers.CharField()

    @extend_schema(responses=TokenOutputSerializer(many=True))
    def get(self, request):
        return _paginate(self, request, token_list(user=request.user), TokenOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = token_create(user=request.user, **data.validated_data)
        body = TokenOutputSerializer(token).data | {"token": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, token_id: int):
        token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    organization = serializers.SerializerMethodField()
    repo_pk = serializers.IntegerField(allow_null=True)
    target = serializers.CharField(source="target_repr")
    ip = serializers.CharField()
    user_agent = serializers.CharField()
    data = serializers.JSONField()

    def get_organization(self, event) -> str | None:
        return event.organization.name if event.organization_id else None


AUDIT_FILTER_PARAMETERS = [
    OpenApiParameter("action", str, description="An action code (repo.move) or an area (repo)."),
    OpenApiParameter("actor", str, description="The user name of the actor."),
]


class OrganizationAuditLogApi(APIView):
    """The organization's audit log, newest first (its admins and site staff)."""

    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination

    @extend_schema(parameters=AUDIT_FILTER_PARAMETERS, responses=AuditEventOutputSerializer(many=True))
    def get(self, request, name: str):
        organization = organization_get_by_name(name=name)
        filters = AuditFilters.from_query(request.GET)
        events = audit_log_of_organization(user=request.user, organization=organization, filters=filters)
        return _paginate(self, request, events.select_related("organization__namespace"), AuditEventOutputSerializer)
