"""Pages of runs: the run list, a run's live page, its per-item samples, and the forms that
start training and evaluation runs (the "Train / fine-tune" and "Evaluate" actions of model and
dataset pages lead here)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import HubError
from frontend.pages import page_view
from registry.access import access_repo
from registry.choices import RepoType
from training_runner.jobs.apis import run_inputs, run_output, sample_view
from training_runner.jobs.choices import RunKind, RunState
from training_runner.jobs.forms import SUITE_IN_REPO, EvaluationRunForm, TrainingRunForm
from training_runner.jobs.selectors import (
    RunFilters,
    run_get,
    run_list,
    run_log_tail,
    run_metrics,
    run_queue_position,
    run_samples,
    run_tasks,
)
from training_runner.jobs.services.artifacts import evaluation_file_open
from training_runner.jobs.services.lifecycle import run_cancel
from training_runner.jobs.services.signing import signing_public_key
from training_runner.jobs.services.submit_evaluation import evaluation_run_submit
from training_runner.jobs.services.submit_training import parse_param_lines, training_run_submit

RUNS_PAGE_SIZE = 30
SAMPLES_PAGE_SIZE = 50


def _form_errors(form, error: HubError) -> None:
    """Attach a submission error to the fields it names; ``params.<key>`` errors go to the
    parameters box with their key."""
    if not error.fields:
        form.add_error(None, error.message)
        return
    for field, field_messages in error.fields.items():
        for message in field_messages:
            if field.startswith("params."):
                key = field.removeprefix("params.")
                form.add_error("params", message if message.startswith(key) else f"{key}: {message}")
            elif field in form.fields:
                form.add_error(field, message)
            else:
                form.add_error(None, message)


@require_GET
@page_view
def run_list_page(request: HttpRequest) -> HttpResponse:
    """``/runs``: every run the visitor may see, filtered by user, repository, state or kind."""
    repo = None
    for key, repo_type in (("model", RepoType.MODEL), ("dataset", RepoType.DATASET)):
        value = request.GET.get(key, "")
        if value and "/" in value:
            namespace, _, name = value.partition("/")
            repo = access_repo(user=request.user, repo_type=repo_type, namespace=namespace, name=name)
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    filters = RunFilters(
        username=request.GET.get("user", ""),
        repo=repo,
        state=state if state in RunState.values else "",
        kind=kind if kind in RunKind.values else "",
    )
    page = Paginator(run_list(user=request.user, filters=filters), RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "states": RunState.choices, "kinds": RunKind.choices, "repo": repo}
    return render(request, "jobs/run_list.html", context)


@require_GET
@page_view
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's page: state, queue position, progress, live curves or task scores, inputs, output,
    history and log tail. ``run.js`` keeps it current while the run is not finished."""
    run = run_get(user=request.user, run_id=run_id)
    metrics = [{"id": m.pk, "event": m.event, **m.values} for m in run_metrics(run=run)]
    log_lines = run_log_tail(run=run)
    context = {
        "run": run,
        "inputs": run_inputs(run),
        "output": run_output(run),
        "queue_position": run_queue_position(run=run),
        "transitions": list(run.transitions.select_related("actor")),
        "log_lines": log_lines,
        "metrics": metrics,
        "run_data": {
            "id": run.pk,
            "kind": run.kind,
            "state": run.state,
            "metrics": metrics,
            "last_log_id": log_lines[-1].pk if log_lines else 0,
        },
        "tasks": run_tasks(run=run),
        "children": list(run.children.all()),
        "can_cancel": request.user.is_authenticated
        and (request.user.pk == run.user_id or request.user.is_staff)
        and not RunState(run.state).finished,
    }
    return render(request, "jobs/run.html", context)


@require_POST
@page_view
def run_cancel_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = run_get(user=request.user, run_id=run_id)
    if not request.user.is_authenticated:
        return redirect("login")
    run = run_cancel(run_id=run.pk, user=request.user)
    if run.state == RunState.CANCELLED:
        messages.success(request, f"Run {run.pk} was cancelled.")
    else:
        messages.success(request, f"Run {run.pk} stops at its next step and keeps its last checkpoint.")
    return redirect(run.web_path)


@require_GET
@page_view
def run_samples_file(request: HttpRequest, run_id: int, task: str) -> HttpResponse:
    """The per-item log of one task, byte for byte as the worker wrote and signed it."""
    run = run_get(user=request.user, run_id=run_id)
    response = FileResponse(evaluation_file_open(run=run, task=task), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="samples_{task}.jsonl"'
    return response


@require_GET
def signing_key(request: HttpRequest) -> HttpResponse:
    """The public half of the key that signs evaluation results (PEM)."""
    return HttpResponse(signing_public_key(), content_type="application/x-pem-file")


@require_GET
@page_view
def run_samples_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """The scored items of an evaluation run: prompt, choices with log-likelihoods, prediction, gold."""
    run = run_get(user=request.user, run_id=run_id)
    tasks = run_tasks(run=run)
    task = request.GET.get("task", "")
    task = task if task in tasks else ""
    wrong = request.GET.get("wrong") == "1"
    page = Paginator(run_samples(run=run, task=task, wrong_only=wrong), SAMPLES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "run": run,
        "tasks": tasks,
        "task": task,
        "wrong": wrong,
        "page": page,
        "samples": [sample_view(s) for s in page],
    }
    return render(request, "jobs/samples.html", context)


def _suites() -> list[str]:
    from evals.harness.suite import available_suites

    return available_suites()


@login_required
@require_http_methods(["GET", "POST"])
@page_view
def training_run_new(request: HttpRequest) -> HttpResponse:
    """Start a training or fine-tuning run (``?base_model=`` / ``?dataset=`` prefill the form)."""
    base, dataset = request.GET.get("base_model", ""), request.GET.get("dataset", "")
    recipe = request.GET.get("recipe") or ("sft" if base else "pretrain_clm")
    stem = (base or dataset).rsplit("/", 1)[-1] or "model"
    initial = {
        "base_model": base,
        "dataset": dataset,
        "recipe": recipe,
        "output_repo": f"{request.user.username}/{stem}-{recipe.replace('_', '-')}",
        "params": "train.max_steps=100\n",
    }
    form = TrainingRunForm(request.POST or None, initial=initial, suites=_suites())
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            run = training_run_submit(
                user=request.user,
                recipe=values["recipe"],
                base_model=values["base_model"].strip() or None,
                base_revision=values["base_revision"].strip(),
                dataset=values["dataset"].strip(),
                dataset_revision=values["dataset_revision"].strip(),
                params=parse_param_lines(values["params"]),
                output_repo=values["output_repo"].strip(),
                output_branch=values["output_branch"].strip(),
                output_pull_request=values["output_pull_request"],
                evaluate_after=values["evaluate_after"],
                site_url=request.build_absolute_uri("/"),
            )
        except HubError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Training run {run.pk} is queued.")
            return redirect(run.web_path)
    return render(request, "jobs/run_new.html", {"form": form, "kind": "training"}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@page_view
def evaluation_run_new(request: HttpRequest) -> HttpResponse:
    """Start an evaluation run (``?model=`` prefills the form)."""
    suites = _suites()
    initial = {"model": request.GET.get("model", ""), "suite": suites[0] if suites else SUITE_IN_REPO}
    form = EvaluationRunForm(request.POST or None, initial=initial, suites=[(s, s) for s in suites])
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        in_repo = values["suite"] == SUITE_IN_REPO
        try:
            run = evaluation_run_submit(
                user=request.user,
                model=values["model"].strip(),
                revision=values["revision"].strip(),
                suite=f"datasets/{values['suite_repo'].strip()}" if in_repo else values["suite"],
                suite_revision=values["suite_revision"].strip() if in_repo else None,
                suite_file=(values["suite_file"].strip() or None) if in_repo else None,
                limit=values["limit"],
                site_url=request.build_absolute_uri("/"),
            )
        except HubError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Evaluation run {run.pk} is queued.")
            return redirect(run.web_path)
    context = {"form": form, "kind": "evaluation"}
    return render(request, "jobs/run_new.html", context, status=400 if form.errors else 200)
