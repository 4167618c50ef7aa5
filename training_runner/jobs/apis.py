"""REST API of runs (``/api/v1/runs…``): submit, follow, cancel and read training and evaluation
runs. Each view parses, calls one service or selector, and serializes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound, ValidationError
from common.pagination import PageNumberPagination
from registry.access import access_repo
from registry.hf.common import API_TYPES
from training_runner.jobs.choices import LogLevel, RunKind, RunState
from training_runner.jobs.selectors import (
    RunFilters,
    run_get,
    run_list,
    run_log_lines,
    run_metrics,
    run_queue_position,
    run_samples,
)
from training_runner.jobs.services.lifecycle import run_cancel
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit
from training_runner.jobs.services.submit_training import training_run_submit


def _pinned(repo_name: str, revision: str, commit: str) -> dict | None:
    if not repo_name:
        return None
    return {"repo": repo_name, "revision": revision, "commit": commit}


def run_inputs(run) -> dict:
    """What a run read, each input with the revision asked for and the commit it was pinned to."""
    if run.kind == RunKind.TRAINING:
        return {
            "recipe": run.recipe,
            "base_model": _pinned(run.model_repo_name, run.model_revision, run.model_commit),
            "dataset": _pinned(run.dataset_repo_name, run.dataset_revision, run.dataset_commit),
            "params": run.params,
            "evaluate_after": run.evaluate_after,
        }
    suite = {"name": run.suite, "hash": run.suite_hash}
    if run.dataset_repo_name:
        suite.update(file=run.suite_file, **_pinned(run.dataset_repo_name, run.dataset_revision, run.dataset_commit))
    return {
        "model": _pinned(run.model_repo_name, run.model_revision, run.model_commit),
        "suite": suite,
        "limit": run.limit,
    }


def run_output(run) -> dict | None:
    if run.kind != RunKind.TRAINING:
        return None
    return {
        "repo": run.output_repo_name,
        "mode": run.output_mode,
        "branch": run.output_branch,
        "commit": run.output_commit or None,
        "pull_request": run.output_pull_request,
    }


class RunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=RunKind.choices)
    state = serializers.ChoiceField(choices=RunState.choices)
    reason = serializers.CharField()
    url = serializers.CharField(source="web_path")
    user = serializers.CharField(source="user.username")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempt = serializers.IntegerField()
    queue_position = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()
    output = serializers.SerializerMethodField()
    checkpoint_step = serializers.IntegerField(allow_null=True)
    results = serializers.JSONField(allow_null=True)
    fingerprint = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)

    def get_queue_position(self, run) -> int | None:
        return run_queue_position(run=run)

    def get_progress(self, run) -> dict:
        return {**(run.progress or {}), "step": run.step, "total": run.total_steps}

    def get_inputs(self, run) -> dict:
        return run_inputs(run)

    def get_output(self, run) -> dict | None:
        return run_output(run)


class RunDetailSerializer(RunOutputSerializer):
    history = serializers.SerializerMethodField()

    def get_history(self, run) -> list[dict]:
        return [
            {
                "from": t.from_state or None,
                "to": t.to_state,
                "reason": t.reason,
                "at": t.at,
                "by": t.actor.username if t.actor_id else None,
            }
            for t in run.transitions.select_related("actor")
        ]


class RunListCreateApi(APIView):
    """List runs (newest first) or submit one."""

    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=RunKind.choices)
        # training
        recipe = serializers.CharField(required=False, help_text="pretrain_clm, pretrain_mlm, sft, classify or lora.")
        base_model = serializers.CharField(
            required=False,
            allow_null=True,
            allow_blank=True,
            help_text="A model repository to fine-tune; null trains from scratch.",
        )
        base_revision = serializers.CharField(required=False, allow_blank=True)
        dataset = serializers.CharField(required=False, help_text="A dataset repository (namespace/name).")
        dataset_revision = serializers.CharField(required=False, allow_blank=True)
        params = serializers.DictField(required=False, help_text='Dotted config keys, e.g. {"train.max_steps": 20}.')
        output_repo = serializers.CharField(required=False, help_text="The model repository the result goes to.")
        output_branch = serializers.CharField(required=False, allow_blank=True)
        output_pull_request = serializers.BooleanField(required=False, default=False)
        evaluate_after = serializers.ListField(child=serializers.CharField(), required=False)
        # evaluation
        model = serializers.CharField(required=False, help_text="The model repository to evaluate.")
        revision = serializers.CharField(required=False, allow_blank=True)
        suite = serializers.CharField(required=False, help_text="A shipped suite, or datasets/<namespace>/<name>.")
        suite_revision = serializers.CharField(required=False, allow_blank=True)
        suite_file = serializers.CharField(required=False, allow_blank=True)
        limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1_000_000)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, description="Runs started by this user."),
            OpenApiParameter("model", str, description="Runs that read or wrote this model (namespace/name)."),
            OpenApiParameter("dataset", str, description="Runs that read this dataset (namespace/name)."),
            OpenApiParameter("state", str, enum=RunState.values),
            OpenApiParameter("kind", str, enum=RunKind.values),
        ],
        responses=RunOutputSerializer(many=True),
    )
    def get(self, request):
        repo = None
        for key, plural in (("model", "models"), ("dataset", "datasets")):
            value = request.GET.get(key, "")
            if value:
                namespace, _, name = value.partition("/")
                repo = access_repo(user=request.user, repo_type=API_TYPES[plural], namespace=namespace, name=name)
        state, kind = request.GET.get("state", ""), request.GET.get("kind", "")
        if state and state not in RunState.values:
            raise ValidationError(f"state must be one of {', '.join(RunState.values)}.", fields={"state": ["Invalid."]})
        if kind and kind not in RunKind.values:
            raise ValidationError(f"kind must be one of {', '.join(RunKind.values)}.", fields={"kind": ["Invalid."]})
        filters = RunFilters(username=request.GET.get("user", ""), repo=repo, state=state, kind=kind)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(run_list(user=request.user, filters=filters), request, view=self)
        return paginator.get_paginated_response(RunOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: RunDetailSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        kind = values.pop("kind")
        site_url = request.build_absolute_uri("/")
        if kind == RunKind.TRAINING:
            run = training_run_submit(
                user=request.user,
                recipe=values.get("recipe"),
                dataset=values.get("dataset"),
                output_repo=values.get("output_repo"),
                params=values.get("params") or {},
                base_model=values.get("base_model"),
                base_revision=values.get("base_revision"),
                dataset_revision=values.get("dataset_revision"),
                output_branch=values.get("output_branch"),
                output_pull_request=values.get("output_pull_request", False),
                evaluate_after=values.get("evaluate_after"),
                site_url=site_url,
            )
        else:
            run = evaluation_run_submit(
                user=request.user,
                model=values.get("model"),
                suite=values.get("suite"),
                revision=values.get("revision"),
                suite_revision=values.get("suite_revision"),
                suite_file=values.get("suite_file"),
                limit=values.get("limit"),
                site_url=site_url,
            )
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailApi(APIView):
    """One run: state, reason, progress, pinned inputs, output, results and history."""

    permission_classes = [AllowAny]

    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, run_id: int):
        return Response(RunDetailSerializer(run_get(user=request.user, run_id=run_id)).data)


class RunCancelApi(APIView):
    """Cancel a run: a queued one at once, a running one at its next step (its checkpoint is kept);
    409 when it has already finished."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=RunDetailSerializer)
    def post(self, request, run_id: int):
        run = run_get(user=request.user, run_id=run_id)
        run = run_cancel(run_id=run.pk, user=request.user)
        return Response(RunDetailSerializer(run).data)


def _after(request) -> int:
    raw = request.GET.get("after", "0") or "0"
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationError("after must be a row id (a whole number).", fields={"after": ["Invalid."]})
    return int(raw)


class RunMetricsApi(APIView):
    """The run's metrics stream: one row per training step and per validation."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        results = serializers.ListField(
            child=serializers.DictField(),
            help_text="Rows in order: id, event (train | eval), step, and the core's values (loss, lr, grad_norm, "
            "tokens_per_s, tokens_seen, elapsed_s; val_loss, val_bpb, val_accuracy).",
        )

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Only rows after this id.")], responses=OutputSerializer
    )
    def get(self, request, run_id: int):
        run = run_get(user=request.user, run_id=run_id)
        rows = run_metrics(run=run, after=_after(request))
        return Response({"results": [{"id": r.pk, "event": r.event, "step": r.step, **r.values} for r in rows]})


class LogLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    level = serializers.ChoiceField(choices=LogLevel.choices)
    message = serializers.CharField()


class RunLogsApi(APIView):
    """The run's log lines."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        results = LogLineSerializer(many=True)

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Only lines after this id.")], responses=OutputSerializer
    )
    def get(self, request, run_id: int):
        run = run_get(user=request.user, run_id=run_id)
        lines = run_log_lines(run=run, after=_after(request))
        return Response(
            {"results": [{"id": l.pk, "at": l.at, "level": l.level, "message": l.message} for l in lines]}  # noqa: E741
        )


def sample_view(sample) -> dict:
    """A per-item record as people read it: prompt, choices with their log-likelihoods, the
    prediction, the gold answer, and the metric values."""
    record = sample.record
    requests, responses = record.get("requests", []), record.get("responses", [])
    logprobs = [r.get("logprob") for r in responses]
    multiple = len(requests) > 1  # one scored continuation per choice
    prediction = max(range(len(logprobs)), key=lambda j: (logprobs[j], -j)) if multiple and logprobs else None
    return {
        "task": sample.task,
        "id": record.get("item_id"),
        "prompt": record.get("prompt"),
        "choices": [r.get("continuation") for r in requests] if multiple else [],
        "loglikelihoods": logprobs,
        "prediction": prediction,
        "gold": record.get("target"),
        "correct": sample.correct,
        "metrics": record.get("metrics", {}),
        "doc": record.get("doc"),
    }


class SampleSerializer(serializers.Serializer):
    task = serializers.CharField()
    id = serializers.JSONField(help_text="The item's id within its task.")
    prompt = serializers.CharField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), help_text="Scored continuations, in order.")
    loglikelihoods = serializers.ListField(child=serializers.FloatField(allow_null=True))
    prediction = serializers.IntegerField(allow_null=True, help_text="Index of the choice the model scored highest.")
    gold = serializers.JSONField(allow_null=True, help_text="Index (or text) of the right answer.")
    correct = serializers.BooleanField(allow_null=True)
    metrics = serializers.DictField()
    doc = serializers.DictField(allow_null=True)


class RunSamplesApi(APIView):
    """Per-item records of an evaluation run, in suite order (paginated)."""

    permission_classes = [AllowAny]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("task", str, description="Only this task's items."),
            OpenApiParameter("wrong", bool, description="Only items the model got wrong."),
        ],
        responses=SampleSerializer(many=True),
    )
    def get(self, request, run_id: int):
        run = run_get(user=request.user, run_id=run_id)
        if run.kind != RunKind.EVALUATION:
            raise ValidationError("Only evaluation runs have per-item samples.")
        wrong = request.GET.get("wrong", "").lower() in ("1", "true", "yes")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            run_samples(run=run, task=request.GET.get("task", ""), wrong_only=wrong), request, view=self
        )
        return paginator.get_paginated_response([sample_view(s) for s in page])


class SignedResultsSerializer(serializers.Serializer):
    algorithm = serializers.CharField(help_text="Ed25519")
    key_id = serializers.CharField(help_text="sha256 of the raw public key, first 16 hex digits")
    payload = serializers.DictField(help_text="What is signed: source, fingerprint, suite, model files, tasks.")
    signature = serializers.CharField(help_text="base64 Ed25519 signature of the payload's canonical JSON")


class RunResultsApi(APIView):
    """An evaluation run's results, signed with the hub's key (check them with
    ``python -m evals verify``; the public key is at ``/.well-known/llm-hub/results-signing-key.pem``)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=SignedResultsSerializer)
    def get(self, request, run_id: int):
        run = run_get(user=request.user, run_id=run_id)
        if not run.signed_results:
            raise NotFound(f"Run {run.pk} has no signed results (only finished evaluation runs do).")
        return Response(run.signed_results)
