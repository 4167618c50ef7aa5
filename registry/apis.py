"""REST API of the registry (``/api/v1/repos…``): the site's programmatic surface, over the same
services and selectors as the HF-compatible API and the HTML pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ValidationError
from common.openapi import HubAutoSchema
from common.pagination import CappedCountPagination, PageNumberPagination
from common.timefmt import iso_z
from hub.apis import AUDIT_FILTER_PARAMETERS, AuditEventOutputSerializer
from hub.selectors import AuditFilters, namespace_get
from registry.access import Permission, access_repo
from registry.choices import AccessRequestStatus, RepoType
from registry.hf.common import API_TYPES
from registry.models import Ref
from registry.selectors.access_requests import access_request_find, access_requests_list
from registry.selectors.audit import repo_audit_log
from registry.selectors.repos import SORT_ALIASES, RepoFilters, repo_listing, repo_tags
from registry.selectors.revisions import revision_resolve
from registry.services import access_requests, counters, refs, repos
from registry.services.access_requests import MAX_REASON
from registry.trees import FileInfo, tree_list


def _repo(request, types: str, namespace: str, name: str, need: Permission = Permission.READ):
    if types not in API_TYPES:
        raise ValidationError(f"Unknown repository type '{types}': use models, datasets or tutorials.")
    return access_repo(
        user=request.user, repo_type=API_TYPES[types], namespace=namespace, name=name, need=need,
        token=request.auth if hasattr(request.auth, "can_write") else None,
    )  # fmt: skip


class RepoApiSchema(HubAutoSchema):
    """Paths with ``{types}`` take one of the repository kinds' plurals."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if "{types}" in self.path:
            kinds = OpenApiParameter("types", str, OpenApiParameter.PATH, enum=list(API_TYPES))
            parameters = [kinds, *parameters]
        return parameters


class RepoApiView(APIView):
    """A view of one repository's REST API."""

    schema = RepoApiSchema()


class RepoOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="repo_id")
    type = serializers.CharField()
    namespace = serializers.CharField(source="namespace.name")
    name = serializers.CharField()
    private = serializers.BooleanField()
    gated = serializers.CharField()
    description = serializers.CharField()
    license = serializers.CharField()
    pipeline_tag = serializers.CharField()
    library_name = serializers.CharField()
    tags = serializers.SerializerMethodField()
    downloads = serializers.IntegerField()
    likes = serializers.IntegerField()
    used_storage = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    last_modified = serializers.DateTimeField()
    url = serializers.CharField(source="web_path")

    def get_tags(self, repo) -> list[str]:
        read = self.context.get("tags")  # a listing's page: read in one query (``repo_tags``)
        return read[repo.pk] if read is not None else [row.tag for row in repo.tag_rows.all()]


class RepoListCreateApi(APIView):
    """List and search repositories, or create one."""

    pagination_class = CappedCountPagination

    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=RepoType.choices, default=RepoType.MODEL)
        namespace = serializers.CharField(required=False, help_text="A user or organization; yours by default.")
        name = serializers.CharField(max_length=200, help_text="1 to 96 of [A-Za-z0-9_.-].")
        private = serializers.BooleanField(default=False)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        parameters=[
            OpenApiParameter("type", str, enum=RepoType.values),
            OpenApiParameter("search", str),
            OpenApiParameter("author", str),
            OpenApiParameter("tag", str, many=True),
            OpenApiParameter("pipeline_tag", str),
            OpenApiParameter("library", str),
            OpenApiParameter("license", str),
            OpenApiParameter("language", str),
            OpenApiParameter("sort", str, enum=sorted(SORT_ALIASES)),
        ],
        responses=RepoOutputSerializer(many=True),
    )
    def get(self, request):
        try:
            repo_type = RepoType(request.GET.get("type", RepoType.MODEL))
        except ValueError:
            raise ValidationError("type must be model, dataset or tutorial.", fields={"type": ["Invalid."]}) from None
        filters = RepoFilters(
            repo_type=repo_type,
            search=request.GET.get("search", ""),
            author=request.GET.get("author", ""),
            tags=tuple(request.GET.getlist("tag")),
            pipeline_tag=request.GET.get("pipeline_tag", ""),
            library=request.GET.get("library", ""),
            license=request.GET.get("license", ""),
            language=request.GET.get("language", ""),
            sort=request.GET.get("sort", ""),
        )
        paginator = CappedCountPagination()
        page = paginator.paginate_queryset(repo_listing(user=request.user, filters=filters), request, view=self)
        serializer = RepoOutputSerializer(page, many=True, context={"tags": repo_tags(page)})
        return paginator.get_paginated_response(serializer.data)

    @extend_schema(request=InputSerializer, responses={201: RepoOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        namespace = namespace_get(name=values["namespace"]) if values.get("namespace") else request.user.namespace
        repo = repos.repo_create(
            user=request.user, namespace=namespace, name=values["name"], repo_type=RepoType(values["type"]),
            private=values["private"],
        )  # fmt: skip
        return Response(RepoOutputSerializer(repo).data, status=status.HTTP_201_CREATED)


class RepoDetailApi(RepoApiView):
    """One repository: read, change its settings, or delete it."""

    class SettingsSerializer(serializers.Serializer):
        private = serializers.BooleanField(required=False)
        gated = serializers.ChoiceField(choices=["auto", "manual", "false"], required=False)

    @extend_schema(responses=RepoOutputSerializer)
    def get(self, request, types: str, namespace: str, name: str):
        return Response(RepoOutputSerializer(_repo(request, types, namespace, name)).data)

    @extend_schema(request=SettingsSerializer, responses=RepoOutputSerializer)
    def patch(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name, need=Permission.ADMIN)
        data = self.SettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repo = repos.repo_update_settings(repo=repo, actor=request.user, **data.validated_data)
        return Response(RepoOutputSerializer(repo).data)

    @extend_schema(responses={204: None})
    def delete(self, request, types: str, namespace: str, name: str):
        repos.repo_delete(repo=_repo(request, types, namespace, name, need=Permission.ADMIN), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RepoMoveApi(RepoApiView):
    class InputSerializer(serializers.Serializer):
        namespace = serializers.CharField()
        name = serializers.CharField(max_length=96)

    @extend_schema(request=InputSerializer, responses=RepoOutputSerializer)
    def post(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name, need=Permission.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repo = repos.repo_move(
            repo=repo, user=request.user, to_namespace=namespace_get(name=data.validated_data["namespace"]),
            to_name=data.validated_data["name"],
        )  # fmt: skip
        return Response(RepoOutputSerializer(repo).data)


class RefOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.CharField(source="target_oid")


class RepoRefsApi(RepoApiView):
    permission_classes = [AllowAny]

    @extend_schema(responses=RefOutputSerializer(many=True))
    def get(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name)
        return Response(RefOutputSerializer(Ref.objects.filter(repo=repo).order_by("name"), many=True).data)


class BranchApi(RepoApiView):
    """Create (POST, optional ``start``) or delete (DELETE) a branch."""

    class InputSerializer(serializers.Serializer):
        start = serializers.CharField(required=False)

    @extend_schema(request=InputSerializer, responses={201: RefOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str, branch: str):
        repo = _repo(request, types, namespace, name, need=Permission.WRITE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ref = refs.branch_create(repo=repo, branch=branch, starting_point=data.validated_data.get("start"))
        return Response(RefOutputSerializer(ref).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request, types: str, namespace: str, name: str, branch: str):
        repo = _repo(request, types, namespace, name, need=Permission.WRITE)
        refs.branch_delete(repo=repo, branch=branch, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagApi(RepoApiView):
    """Create (POST, ``revision``) or delete (DELETE) a tag."""

    class InputSerializer(serializers.Serializer):
        revision = serializers.CharField(default="main")
        message = serializers.CharField(required=False, default="", allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: RefOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str, tag: str):
        repo = _repo(request, types, namespace, name, need=Permission.WRITE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ref = refs.tag_create(repo=repo, tag=tag, **data.validated_data)
        return Response(RefOutputSerializer(ref).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request, types: str, namespace: str, name: str, tag: str):
        refs.tag_delete(repo=_repo(request, types, namespace, name, need=Permission.WRITE), tag=tag)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommitOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="oid")
    title = serializers.CharField()
    message = serializers.CharField()
    author = serializers.CharField(source="author_name")
    date = serializers.SerializerMethodField()
    parents = serializers.ListField(child=serializers.CharField())

    def get_date(self, commit) -> str:
        return iso_z(commit.authored_at)


class CommitPageSerializer(serializers.Serializer):
    """A page of history, newest first; ``has_more`` says whether a next page exists."""

    results = CommitOutputSerializer(many=True)
    page = serializers.IntegerField(min_value=1)
    has_more = serializers.BooleanField()


class TreeEntrySerializer(serializers.Serializer):
    path = serializers.CharField()
    type = serializers.SerializerMethodField()
    oid = serializers.CharField()
    size = serializers.SerializerMethodField()
    lfs = serializers.SerializerMethodField()
    sha256 = serializers.SerializerMethodField()

    def get_type(self, info) -> str:
        return "file" if isinstance(info, FileInfo) else "directory"

    def get_size(self, info) -> int:
        return info.size if isinstance(info, FileInfo) else 0

    def get_lfs(self, info) -> bool:
        return isinstance(info, FileInfo) and info.lfs

    def get_sha256(self, info) -> str | None:
        return info.sha256 if isinstance(info, FileInfo) else None


class TreeOutputSerializer(serializers.Serializer):
    commit = serializers.CharField(help_text="The commit the revision resolved to.")
    entries = TreeEntrySerializer(many=True)


class LikeOutputSerializer(serializers.Serializer):
    likes = serializers.IntegerField()
    liked = serializers.BooleanField()


class TreeApi(RepoApiView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("path", str), OpenApiParameter("recursive", bool)],
        responses=TreeOutputSerializer,
    )
    def get(self, request, types: str, namespace: str, name: str, revision: str):
        repo = _repo(request, types, namespace, name)
        commit = revision_resolve(repo=repo, revision=revision).commit
        recursive = request.GET.get("recursive", "false").lower() in {"1", "true"}
        entries = list(tree_list(commit.tree_oid, request.GET.get("path", "").strip("/"), recursive=recursive))
        return Response({"commit": commit.oid, "entries": TreeEntrySerializer(entries, many=True).data})


class LikeApi(RepoApiView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=LikeOutputSerializer)
    def post(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name)
        state = counters.repo_like_set(user=request.user, repo=repo, liked=True)
        return Response({"likes": state.likes, "liked": state.liked})

    @extend_schema(request=None, responses=LikeOutputSerializer)
    def delete(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name)
        state = counters.repo_like_set(user=request.user, repo=repo, liked=False)
        return Response({"likes": state.likes, "liked": state.liked})


class AccessRequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    user = serializers.CharField(source="user.username")
    status = serializers.CharField()
    fields = serializers.JSONField(allow_null=True, help_text="Answers to the card's questions, by label.")
    reason = serializers.CharField(help_text="Why the request was rejected (may be empty).")
    created_at = serializers.SerializerMethodField()
    decided_at = serializers.SerializerMethodField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)

    def get_decided_at(self, obj) -> str | None:
        return iso_z(obj.decided_at)


class AccessRequestListCreateApi(RepoApiView):
    """Admins list the requests of a gated repository by status; anyone signed in asks for access,
    answering the questions its card declares (``extra_gated_fields``)."""

    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        fields = serializers.DictField(required=False, default=dict, help_text="Answers by question label.")

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(AccessRequestStatus.values), default="pending")],
        responses=AccessRequestOutputSerializer(many=True),
    )
    def get(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name, need=Permission.ADMIN)
        access_requests.check_repo_gated(repo=repo)
        wanted = request.GET.get("status", AccessRequestStatus.PENDING)
        if wanted not in AccessRequestStatus.values:
            raise ValidationError("status must be pending, accepted or rejected.", fields={"status": ["Invalid."]})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(access_requests_list(repo=repo, status=wanted), request, view=self)
        return paginator.get_paginated_response(AccessRequestOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AccessRequestOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = data.validated_data["fields"]
        made = access_requests.access_request_create(repo=repo, user=request.user, answers=answers)
        return Response(AccessRequestOutputSerializer(made).data, status=status.HTTP_201_CREATED)


class AccessRequestDecisionApi(RepoApiView):
    """An admin accepts or rejects a request (with a reason), or moves it back to pending."""

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AccessRequestStatus.choices)
        reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_REASON)

    @extend_schema(
        request=InputSerializer, responses=AccessRequestOutputSerializer, operation_id="repos_access_requests_decide"
    )
    def post(self, request, types: str, namespace: str, name: str, request_id: int):
        repo = _repo(request, types, namespace, name, need=Permission.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = access_request_find(repo=repo, request_id=str(request_id))
        decided = access_requests.access_request_decide(
            repo=repo, request=found, status=data.validated_data["status"],
            reason=data.validated_data["reason"], by=request.user,
        )  # fmt: skip
        return Response(AccessRequestOutputSerializer(decided).data)


class RepoAuditLogApi(RepoApiView):
    """The repository's audit log, newest first (its admins and site staff)."""

    permission_classes = [AllowAny]  # access_repo answers: 404 to those who may not see it
    pagination_class = PageNumberPagination

    @extend_schema(parameters=AUDIT_FILTER_PARAMETERS, responses=AuditEventOutputSerializer(many=True))
    def get(self, request, types: str, namespace: str, name: str):
        if types not in API_TYPES:
            raise ValidationError(f"Unknown repository type '{types}': use models, datasets or tutorials.")
        filters = AuditFilters.from_query(request.GET)
        _repo, events = repo_audit_log(
            user=request.user, repo_type=API_TYPES[types], namespace=namespace, name=name, filters=filters
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(events.select_related("organization__namespace"), request, view=self)
        return paginator.get_paginated_response(AuditEventOutputSerializer(page, many=True).data)
