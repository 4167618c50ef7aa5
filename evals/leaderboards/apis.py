"""REST API of leaderboards (``/api/v1/leaderboards…``): boards, their ranked entries, the
submission queue, submitting, flags, re-runs and comparisons."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ValidationError
from evals.leaderboards.choices import EntrySource, EntryState, SubmissionPolicy
from evals.leaderboards.selectors import (
    EntryFilters,
    board_entries,
    board_queue,
    entries_disagreements,
    entry_get,
    leaderboard_get,
    leaderboard_list,
    paired_deltas,
)
from evals.leaderboards.services.boards import leaderboard_create
from evals.leaderboards.services.submissions import entry_submit_or_refuse
from evals.leaderboards.services.trust import entry_flag, entry_rerun
from hub.selectors import namespace_get


class LeaderboardOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="board_id")
    title = serializers.CharField()
    description = serializers.CharField()
    suite = serializers.CharField()
    suite_hash = serializers.CharField()
    suite_repo = serializers.SerializerMethodField()
    suite_commit = serializers.CharField()
    limit = serializers.IntegerField(allow_null=True)
    columns = serializers.ListField(child=serializers.DictField())
    chance = serializers.DictField()
    policy = serializers.ChoiceField(choices=SubmissionPolicy.choices)
    max_parameters = serializers.IntegerField(allow_null=True)
    submissions_per_day = serializers.IntegerField()
    url = serializers.CharField(source="web_path")

    def get_suite_repo(self, board) -> str | None:
        return board.suite_repo.repo_id if board.suite_repo_id else None


class EntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    model = serializers.CharField(source="model_repo_name")
    revision = serializers.CharField(source="model_revision")
    commit = serializers.CharField(source="model_commit")
    state = serializers.ChoiceField(choices=EntryState.choices)
    reason = serializers.CharField()
    source = serializers.ChoiceField(choices=EntrySource.choices)
    submitted_at = serializers.DateTimeField(source="created_at")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    run = serializers.IntegerField(source="run_id", allow_null=True)
    pull_request = serializers.IntegerField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True, help_text="Shared by entries noise cannot separate.")
    rank_ci95 = serializers.SerializerMethodField()
    scores = serializers.DictField(help_text="Column key -> {value, ci95, n, normalized}.")
    parameters = serializers.IntegerField(allow_null=True)
    license = serializers.CharField()
    architecture = serializers.CharField()
    base_model = serializers.CharField()
    contamination = serializers.DictField(allow_null=True)
    flagged = serializers.BooleanField()
    reproduced = serializers.BooleanField(allow_null=True)

    def get_rank_ci95(self, entry) -> list[int] | None:
        return [entry.rank_low, entry.rank_high] if entry.rank_low is not None else None


def _board(namespace: str, name: str):
    return leaderboard_get(namespace=namespace, name=name)


class LeaderboardListCreateApi(APIView):
    """Every leaderboard, or create one (organization admins and staff)."""

    class InputSerializer(serializers.Serializer):
        namespace = serializers.CharField(help_text="The organization that owns the board.")
        name = serializers.CharField(max_length=96)
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        suite = serializers.CharField(help_text="A shipped suite, or datasets/<namespace>/<name>.")
        suite_revision = serializers.CharField(required=False, allow_blank=True)
        suite_file = serializers.CharField(required=False, allow_blank=True)
        columns = serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text="task:metric pairs (*:metric is the suite aggregate); the first ranks.",
        )
        policy = serializers.ChoiceField(choices=SubmissionPolicy.choices, default=SubmissionPolicy.ANYONE)
        max_parameters = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        limit = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        submissions_per_day = serializers.IntegerField(required=False, default=5, min_value=1, max_value=1000)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=LeaderboardOutputSerializer(many=True))
    def get(self, request):
        return Response(LeaderboardOutputSerializer(leaderboard_list(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: LeaderboardOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        board = leaderboard_create(user=request.user, namespace=namespace_get(name=values.pop("namespace")), **values)
        return Response(LeaderboardOutputSerializer(board).data, status=status.HTTP_201_CREATED)


class LeaderboardDetailApi(APIView):
    """A board and its ranked entries (the current one of each model the caller may see)."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        board = LeaderboardOutputSerializer()
        entries = EntryOutputSerializer(many=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("max_parameters", int),
            OpenApiParameter("license", str),
            OpenApiParameter("architecture", str),
            OpenApiParameter("base_model", str),
            OpenApiParameter("hide_flagged", bool),
            OpenApiParameter("sort", str, description="A column key (task:metric); ranks by default."),
        ],
        responses=OutputSerializer,
    )
    def get(self, request, namespace: str, name: str):
        board = _board(namespace, name)
        entries = board_entries(board=board, user=request.user, filters=entry_filters(request.GET))
        return Response(
            {
                "board": LeaderboardOutputSerializer(board).data,
                "entries": EntryOutputSerializer(entries, many=True).data,
            }
        )


def entry_filters(params) -> EntryFilters:
    """Board filters from query parameters (shared by the API and the page)."""
    raw = params.get("max_parameters", "")
    if raw and (not raw.isdigit() or len(raw) > 18):
        raise ValidationError("max_parameters must be a whole number.", fields={"max_parameters": ["Invalid."]})
    sort = params.get("sort", "")
    return EntryFilters(
        max_parameters=int(raw) if raw else None,
        license=params.get("license", "")[:64],
        architecture=params.get("architecture", "")[:32],
        base_model=params.get("base_model", "")[:200],
        hide_flagged=params.get("hide_flagged", "") in ("1", "true", "on"),
        sort=sort.removeprefix("-"),
        descending=not sort.startswith("-"),
    )


class SubmissionsApi(APIView):
    """The board's submission queue (latest first, every state), or submit a model you own."""

    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(help_text="namespace/name of your model repository.")
        revision = serializers.CharField(required=False, allow_blank=True, help_text="Pinned to its commit at once.")

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses=EntryOutputSerializer(many=True))
    def get(self, request, namespace: str, name: str):
        board = _board(namespace, name)
        return Response(EntryOutputSerializer(board_queue(board=board, user=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: EntryOutputSerializer})
    def post(self, request, namespace: str, name: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = entry_submit_or_refuse(
            board=_board(namespace, name),
            user=request.user,
            model=data.validated_data["model"],
            revision=data.validated_data.get("revision") or None,
            site_url=request.build_absolute_uri("/"),
        )
        return Response(EntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class EntryRerunApi(APIView):
    """Evaluate a finished entry again on the same pinned inputs (board owners, staff); the entry
    shows "reproduced" when every item comes out the same."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: EntryOutputSerializer})
    def post(self, request, namespace: str, name: str, entry_id: int):
        entry = entry_get(board=_board(namespace, name), entry_id=entry_id, user=request.user)
        rerun = entry_rerun(entry=entry, user=request.user, site_url=request.build_absolute_uri("/"))
        return Response(EntryOutputSerializer(rerun).data, status=status.HTTP_201_CREATED)


class EntryFlagApi(APIView):
    """Flag an entry; the reason opens a public discussion on the model's repository."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=5000)

    class OutputSerializer(serializers.Serializer):
        entry = serializers.IntegerField(source="entry_id")
        discussion = serializers.IntegerField(source="discussion_num")

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, namespace: str, name: str, entry_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = entry_get(board=_board(namespace, name), entry_id=entry_id, user=request.user)
        flag = entry_flag(entry=entry, user=request.user, reason=data.validated_data["reason"])
        return Response(self.OutputSerializer(flag).data, status=status.HTTP_201_CREATED)


class CompareApi(APIView):
    """Two entries item by item: per task and metric A − B with a paired bootstrap interval, and
    the multiple-choice items where their predictions differ."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        deltas = serializers.ListField(child=serializers.DictField())
        disagreements = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        parameters=[
            OpenApiParameter("a", int, required=True),
            OpenApiParameter("b", int, required=True),
            OpenApiParameter("task", str),
        ],
        responses=OutputSerializer,
    )
    def get(self, request, namespace: str, name: str):
        board = _board(namespace, name)
        a, b = (compare_entry(board, request, key) for key in ("a", "b"))
        return Response(
            {
                "deltas": paired_deltas(run_a_id=a.run_id, run_b_id=b.run_id),
                "disagreements": entries_disagreements(a=a, b=b, task=request.GET.get("task", "")),
            }
        )


def compare_entry(board, request, key: str):
    raw = request.GET.get(key, "")
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationError(f"{key} must be an entry id.", fields={key: ["Invalid."]})
    entry = entry_get(board=board, entry_id=int(raw), user=request.user)
    if entry.state != EntryState.FINISHED:
        raise ValidationError(f"Entry {entry.pk} has not finished.", fields={key: ["Not finished."]})
    return entry
