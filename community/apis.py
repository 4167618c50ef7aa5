"""REST API of the community app (``/api/v1/repos/{types}/{ns}/{name}/…``): commits, which land
where ``community.services.changes`` decides — a branch, an open pull request, a new one —,
branch rules, the checks of commits and reviews of pull requests."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from common.errors import NotFound, ValidationError
from common.inputs import text_bool, text_int
from common.pagination import PageNumberPagination
from common.parsers import StrictJSONParser
from common.timefmt import iso_z
from community.choices import CheckState, ReviewState, ReviewVerdict
from community.conversion import conversion_request
from community.rules import branch_rule_find, commit_checks
from community.selectors import discussion_get
from community.services import branch_rules, checks, discussions
from community.services.branch_rules import MAX_REQUIRED_APPROVALS
from community.services.changes import change_apply, change_target
from community.services.discussions import MAX_COMMENT
from registry.access import Permission
from registry.apis import CommitOutputSerializer, CommitPageSerializer, RepoApiView, _repo
from registry.selectors.commits import commit_history
from registry.selectors.conversions import conversion_get
from registry.selectors.revisions import commit_get, revision_resolve
from registry.services.commits import AddFile, DeleteFile, DeleteFolder
from registry.services.refs import ref_name_validate
from registry.storage import BlobWriter

HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")


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


def _strict(data, allowed: set[str]) -> None:
    """Refuse fields the endpoint does not know (a typo must not pass as a default)."""
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"Unknown fields: {', '.join(unknown)}.", fields={name: ["Unknown field."] for name in unknown}
        )


class BranchRuleSerializer(serializers.Serializer):
    branch = serializers.CharField(read_only=True)
    require_pull_request = serializers.BooleanField(default=True)
    required_approvals = serializers.IntegerField(default=0, min_value=0, max_value=MAX_REQUIRED_APPROVALS)
    required_checks = serializers.ListField(child=serializers.CharField(max_length=100), default=list)
    code_owners = serializers.BooleanField(default=False)
    dismiss_stale_approvals = serializers.BooleanField(default=False)
    bypass = serializers.ListField(child=serializers.CharField(max_length=39), default=list)


class BranchRuleApi(RepoApiView):
    """The rule protecting one branch: read it (anyone who can read the repository), set it
    (PUT, replacing the whole rule) or delete it (admins)."""

    parser_classes = [StrictJSONParser]

    @extend_schema(responses=BranchRuleSerializer)
    def get(self, request, types: str, namespace: str, name: str, branch: str):
        repo = _repo(request, types, namespace, name)
        rule = branch_rule_find(repo=repo, branch=ref_name_validate(branch, kind="branch"))
        if rule is None:
            raise NotFound(f"Branch {branch} has no rule.")
        return Response(BranchRuleSerializer(rule).data)

    @extend_schema(request=BranchRuleSerializer, responses=BranchRuleSerializer)
    def put(self, request, types: str, namespace: str, name: str, branch: str):
        repo = _repo(request, types, namespace, name, need=Permission.ADMIN)
        _strict(request.data, set(BranchRuleSerializer().fields) - {"branch"})
        data = BranchRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = branch_rules.branch_rule_set(repo=repo, branch=branch, actor=request.user, **data.validated_data)
        return Response(BranchRuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, types: str, namespace: str, name: str, branch: str):
        branch_rules.branch_rule_delete(
            repo=_repo(request, types, namespace, name, need=Permission.ADMIN), branch=branch, actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CheckSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    state = serializers.ChoiceField(choices=CheckState.choices)
    summary = serializers.CharField(max_length=1000, required=False, default="", allow_blank=True)
    details_url = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class CheckOutputSerializer(CheckSerializer):
    commit = serializers.CharField(source="commit_oid")
    updated_at = serializers.SerializerMethodField()

    def get_updated_at(self, check) -> str:
        return iso_z(check.updated_at)


def _sha(sha: str) -> str:
    if not HEX40.match(sha):
        raise ValidationError("Name the commit by its full 40-character id.", fields={"sha": ["40 hex digits."]})
    return sha.lower()


class CommitChecksApi(RepoApiView):
    """The checks of a commit (GET), or a check's report on it (POST, people with write access:
    CI and bots use a write token). Reporting a name again replaces its state."""

    parser_classes = [StrictJSONParser]

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=CheckOutputSerializer(many=True))
    def get(self, request, types: str, namespace: str, name: str, sha: str):
        repo = _repo(request, types, namespace, name)
        return Response(CheckOutputSerializer(commit_checks(repo=repo, commit_oid=_sha(sha)), many=True).data)

    @extend_schema(request=CheckSerializer, responses={201: CheckOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str, sha: str):
        repo = _repo(request, types, namespace, name, need=Permission.WRITE)
        _strict(request.data, set(CheckSerializer().fields))
        data = CheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = checks.check_report(repo=repo, user=request.user, commit_oid=_sha(sha), **data.validated_data)
        return Response(CheckOutputSerializer(check).data, status=status.HTTP_201_CREATED)


class ReviewSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ReviewVerdict.choices)
    body = serializers.CharField(required=False, default="", allow_blank=True, max_length=MAX_COMMENT)
    comments = serializers.ListField(child=serializers.DictField(), required=False, default=list)


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    state = serializers.SerializerMethodField()
    body = serializers.CharField(source="data.content")
    comments = serializers.ListField(source="data.line_comments", default=list)
    author = serializers.CharField(source="author.username")
    created_at = serializers.SerializerMethodField()

    def get_state(self, event) -> str:
        verdicts = {
            ReviewState.APPROVED: ReviewVerdict.APPROVE,
            ReviewState.CHANGES_REQUESTED: ReviewVerdict.REQUEST_CHANGES,
        }
        return str(verdicts.get(event.data.get("review"), ReviewVerdict.COMMENT))

    def get_created_at(self, event) -> str:
        return iso_z(event.created_at)


class ReviewCreateApi(RepoApiView):
    """Review a pull request: approve or request changes (people with write access, not its
    author), or comment (anyone who can read); ``comments`` are comments on lines of its files."""

    parser_classes = [StrictJSONParser]
    permission_classes = [IsAuthenticated]
    extra_error_statuses = ("409",)

    @extend_schema(request=ReviewSerializer, responses={201: ReviewOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str, num: int):
        repo = _repo(request, types, namespace, name)
        _strict(request.data, set(ReviewSerializer().fields))
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        discussion = discussion_get(repo=repo, num=num)
        if values["state"] == ReviewVerdict.COMMENT:
            event = discussions.review_comment(
                discussion=discussion, user=request.user, comment=values["body"], line_comments=values["comments"]
            )
        else:
            state = ReviewState.APPROVED if values["state"] == ReviewVerdict.APPROVE else ReviewState.CHANGES_REQUESTED
            event = discussions.review_submit(
                discussion=discussion, user=request.user, state=state, comment=values["body"],
                line_comments=values["comments"],
            )  # fmt: skip
        return Response(ReviewOutputSerializer(event).data, status=status.HTTP_201_CREATED)


class MergeOutputSerializer(serializers.Serializer):
    commit = serializers.CharField(source="commit_oid")
    fast_forward = serializers.BooleanField()


class MergeApi(RepoApiView):
    """Merge a pull request (people with write access), once its target's branch rule has nothing
    left to ask; a refusal names what is missing."""

    permission_classes = [IsAuthenticated]
    extra_error_statuses = ("409",)

    @extend_schema(request=None, responses=MergeOutputSerializer)
    def post(self, request, types: str, namespace: str, name: str, num: int):
        repo = _repo(request, types, namespace, name)
        outcome = discussions.pull_request_merge(discussion=discussion_get(repo=repo, num=num), user=request.user)
        return Response(MergeOutputSerializer(outcome).data)
