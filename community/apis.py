"""REST API of the community app (``/api/v1/repos/{types}/{ns}/{name}/…``): commits, which land
where ``community.services.changes`` decides — a branch, an open pull request, a new one."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from common.inputs import text_bool, text_int
from common.pagination import PageNumberPagination
from community.conversion import conversion_request
from community.services.changes import change_apply, change_target
from registry.access import Permission
from registry.apis import CommitOutputSerializer, CommitPageSerializer, RepoApiView, _repo
from registry.selectors.commits import commit_history
from registry.selectors.conversions import conversion_get
from registry.selectors.revisions import commit_get, revision_resolve
from registry.services.commits import AddFile, DeleteFile, DeleteFolder
from registry.storage import BlobWriter


class CommitCreatedSerializer(CommitOutputSerializer):
    """The new commit; ``pull_request`` is the number of the pull request it went onto or opened."""

    pull_request = serializers.IntegerField(allow_null=True)
    pull_request_url = serializers.CharField(allow_null=True)


class CommitListCreateApi(RepoApiView):
    """History of a revision (GET), or a new commit (POST, multipart form) on a branch, on an open
    pull request (``refs/pr/N``), or in a new pull request (``create_pr=true``).

    POST fields: ``summary``, ``description``, ``parent_commit``, ``create_pr``, any number of
    files (the form field name is the path in the repository) and ``delete`` (repeated) paths or
    folders.
    """

    parser_classes = [MultiPartParser]
    extra_error_statuses = ("409", "412")

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=CommitPageSerializer,
    )
    def get(self, request, types: str, namespace: str, name: str, revision: str):
        repo = _repo(request, types, namespace, name)
        head = revision_resolve(repo=repo, revision=revision).commit
        paginator = PageNumberPagination()
        page_size = paginator.get_page_size(request)
        page_number = text_int(request.GET.get("page") or "1", "page", minimum=1, maximum=10**9 // page_size)
        commits, more = commit_history(repo=repo, head=head, offset=(page_number - 1) * page_size, limit=page_size)
        return Response(
            {"results": CommitOutputSerializer(commits, many=True).data, "page": page_number, "has_more": more}
        )

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "additionalProperties": {"type": "string", "format": "binary"}}
        },
        responses={201: CommitCreatedSerializer},
    )
    def post(self, request, types: str, namespace: str, name: str, revision: str):
        repo = _repo(request, types, namespace, name)
        create_pr = text_bool(request.POST.get("create_pr"), "create_pr")
        target = change_target(repo=repo, user=request.user, revision=revision, create_pr=create_pr)
        operations = []
        try:
            for path, uploaded in request.FILES.items():
                writer = BlobWriter(expected_size=uploaded.size)
                for chunk in uploaded.chunks():
                    writer.write(chunk)
                operations.append(AddFile(path=path, staged=writer.finish()))
            for path in request.POST.getlist("delete"):
                operations.append(DeleteFolder(path=path.rstrip("/")) if path.endswith("/") else DeleteFile(path=path))
            outcome = change_apply(
                repo=repo, user=request.user, target=target, operations=operations,
                summary=request.POST.get("summary", "") or f"Upload {len(request.FILES)} files",
                description=request.POST.get("description", ""),
                parent_commit=request.POST.get("parent_commit") or None,
            )  # fmt: skip
        finally:
            for op in operations:
                if isinstance(op, AddFile):
                    op.staged.discard()
        pull_request = outcome.pull_request
        body = {
            **CommitOutputSerializer(commit_get(repo=repo, oid=outcome.commit_oid)).data,
            "pull_request": pull_request.num if pull_request else None,
            "pull_request_url": f"{repo.web_path}/discussions/{pull_request.num}" if pull_request else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ConversionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    branch = serializers.CharField()
    revision = serializers.CharField()
    sources = serializers.ListField(child=serializers.DictField())
    checksums = serializers.ListField(child=serializers.DictField())
    globals = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField()
    pull_request_num = serializers.IntegerField(allow_null=True)


class ConversionCreateApi(RepoApiView):
    """Writers convert a branch's pickle checkpoints to safetensors: a pull request when done."""

    class InputSerializer(serializers.Serializer):
        branch = serializers.CharField(max_length=255, required=False, default="")

    @extend_schema(request=InputSerializer, responses={202: ConversionOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name, need=Permission.WRITE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversion = conversion_request(
            repo=repo, user=request.user, branch=data.validated_data["branch"] or repo.default_branch
        )
        conversion.refresh_from_db()
        return Response(ConversionOutputSerializer(conversion).data, status=status.HTTP_202_ACCEPTED)


class ConversionDetailApi(RepoApiView):
    @extend_schema(responses=ConversionOutputSerializer)
    def get(self, request, types: str, namespace: str, name: str, conversion_id: int):
        repo = _repo(request, types, namespace, name)
        return Response(ConversionOutputSerializer(conversion_get(repo=repo, conversion_id=conversion_id)).data)
