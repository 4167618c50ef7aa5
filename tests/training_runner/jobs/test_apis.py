"""The REST API of runs: submit, read, follow, cancel, per-item samples."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from evals.harness.signing import verify
from registry.selectors.revisions import revision_resolve
from registry.services.repos import repo_update_settings
from tests.support.factories import make_token, make_user
from tests.training_runner.jobs.conftest import TINY, publish_suite_repo
from training_runner.jobs.models import Run


def _client(token: str | None = None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.django_db
def test_submitting_a_training_run_answers_201_with_the_pinned_inputs(alice, corpus):
    token = make_token(alice)
    body = {
        "kind": "training",
        "recipe": "pretrain_clm",
        "base_model": None,
        "dataset": "alice/greek",
        "params": {**TINY, "train.max_steps": 20},
        "output_repo": "alice/greek-lm",
    }
    response = _client(token).post("/api/v1/runs", body, format="json")

    assert response.status_code == 201, response.json()
    run = Run.objects.get()
    data = response.json()
    assert (data["id"], data["kind"], data["state"], data["url"]) == (run.pk, "training", "queued", f"/runs/{run.pk}")
    assert data["reason"] == "Submitted by alice."
    assert data["progress"] == {"step": 0, "total": 20}
    assert data["queue_position"] == 0
    corpus_head = revision_resolve(repo=corpus, revision="main").oid
    assert data["inputs"] == {
        "recipe": "pretrain_clm",
        "base_model": None,
        "dataset": {"repo": "alice/greek", "revision": "main", "commit": corpus_head},
        "params": body["params"],
        "evaluate_after": [],
    }
    assert data["output"] == {
        "repo": "alice/greek-lm",
        "mode": "branch",
        "branch": "main",
        "commit": None,
        "pull_request": None,
    }
    assert (data["results"], data["history"][0]["to"], data["history"][0]["by"]) == (None, "queued", "alice")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            {"kind": "training", "recipe": "nope", "dataset": "alice/greek", "output_repo": "alice/x"},
            400,
            {"recipe": ["Unknown recipe."]},
        ),
        ({"kind": "painting"}, 400, {"kind": ['"painting" is not a valid choice.']}),
        (
            {
                "kind": "training",
                "recipe": "sft",
                "dataset": "alice/greek",
                "output_repo": "alice/x",
                "params": ["train.max_steps=2"],
            },
            400,
            {"params": ['Expected a dictionary of items but got type "list".']},
        ),
        ({"kind": "evaluation", "model": "alice/greek", "suite": "bigbench_mc"}, 404, None),
        (
            {"kind": "evaluation", "model": "alice/tiny-base", "suite": "bigbench_mc", "limit": 0},
            400,
            {"limit": ["Ensure this value is greater than or equal to 1."]},
        ),
    ],
)
def test_bad_submissions_get_field_errors_and_queue_nothing(alice, corpus, base_model, body, status, fields):
    response = _client(make_token(alice)).post("/api/v1/runs", body, format="json")
    assert response.status_code == status, response.json()
    if fields is not None:
        assert response.json()["fields"] == fields
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_reading_needs_no_account_but_submitting_and_cancelling_do(alice, corpus):
    assert _client().post("/api/v1/runs", {"kind": "training"}, format="json").status_code == 401
    body = {"kind": "training", "recipe": "pretrain_clm", "dataset": "alice/greek", "params": TINY}
    run = _client(make_token(alice)).post("/api/v1/runs", {**body, "output_repo": "alice/m"}, format="json").json()
    assert _client().get(f"/api/v1/runs/{run['id']}").json()["state"] == "queued"
    assert _client().post(f"/api/v1/runs/{run['id']}/cancel").status_code == 401
    bob = make_user("bob")
    refused = _client(make_token(bob)).post(f"/api/v1/runs/{run['id']}/cancel")
    assert refused.status_code == 403
    cancelled = _client(make_token(alice)).post(f"/api/v1/runs/{run['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    again = _client(make_token(alice)).post(f"/api/v1/runs/{run['id']}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "run_finished")


@pytest.mark.django_db
def test_runs_of_private_repositories_are_not_found_to_outsiders(alice, corpus):
    token = make_token(alice)
    body = {
        "kind": "training",
        "recipe": "pretrain_clm",
        "dataset": "alice/greek",
        "params": TINY,
        "output_repo": "alice/m",
    }
    run_id = _client(token).post("/api/v1/runs", body, format="json").json()["id"]
    repo_update_settings(repo=corpus, private=True)
    bob = make_token(make_user("bob"))
    assert _client(bob).get(f"/api/v1/runs/{run_id}").status_code == 404
    assert _client().get(f"/api/v1/runs/{run_id}/logs").status_code == 404
    assert _client(bob).get("/api/v1/runs").json()["results"] == []
    assert _client(token).get(f"/api/v1/runs/{run_id}").status_code == 200
    assert [r["id"] for r in _client(token).get("/api/v1/runs?user=alice&state=queued").json()["results"]] == [run_id]
    invalid = _client(token).get("/api/v1/runs?state=sleeping")
    assert (invalid.status_code, invalid.json()["fields"]) == (400, {"state": ["Invalid."]})


@pytest.mark.django_db(transaction=True)
def test_a_finished_evaluation_run_serves_its_samples_metrics_and_logs(alice, base_model):
    publish_suite_repo(alice)
    token = make_token(alice)
    body = {"kind": "evaluation", "model": "alice/tiny-base", "suite": "datasets/alice/letters-bench"}
    run_id = _client(token).post("/api/v1/runs", body, format="json").json()["id"]  # runs inline on commit here

    run = _client().get(f"/api/v1/runs/{run_id}").json()
    assert run["state"] == "succeeded", run["reason"]
    assert run["inputs"]["suite"]["repo"] == "alice/letters-bench"
    assert run["inputs"]["suite"]["file"] == "suite.yaml"
    assert run["fingerprint"] == run["results"]["fingerprint"]
    assert [h["to"] for h in run["history"]] == ["queued", "running", "succeeded"]

    samples = _client().get(f"/api/v1/runs/{run_id}/samples?task=letters").json()
    assert samples["count"] == 4
    first = samples["results"][0]
    assert (first["task"], first["id"], first["gold"]) == ("letters", 0, 0)
    assert first["prompt"] == "Q: Which letter comes after alpha?\nA:"
    assert first["choices"] == [" beta", " alpha"]
    assert len(first["loglikelihoods"]) == 2
    assert first["prediction"] == (0 if first["loglikelihoods"][0] >= first["loglikelihoods"][1] else 1)
    assert first["correct"] == (first["prediction"] == 0)
    assert first["metrics"]["acc"] == float(first["correct"])
    wrong = _client().get(f"/api/v1/runs/{run_id}/samples?wrong=1").json()
    assert wrong["count"] == sum(1 for s in samples["results"] if not s["correct"])

    logs = _client().get(f"/api/v1/runs/{run_id}/logs").json()["results"]
    assert logs[0]["message"].startswith("Attempt 1 on ")
    later = _client().get(f"/api/v1/runs/{run_id}/logs?after={logs[0]['id']}").json()["results"]
    assert later == logs[1:]
    assert _client().get(f"/api/v1/runs/{run_id}/metrics").json() == {"results": []}  # evaluations stream no steps
    bad = _client().get(f"/api/v1/runs/{run_id}/logs?after=x")
    assert (bad.status_code, bad.json()["fields"]) == (400, {"after": ["Invalid."]})

    # The results are signed; the per-item log is served byte for byte as signed.
    bundle = _client().get(f"/api/v1/runs/{run_id}/results").json()
    key = Client().get("/.well-known/llm-hub/results-signing-key.pem")
    assert key["Content-Type"] == "application/x-pem-file"
    payload = verify(bundle, public_pem=key.content)
    assert payload["source"] == {
        "hub": "http://testserver/",
        "run": run_id,
        "limit": None,
        "model": {"repo": "alice/tiny-base", "commit": run["inputs"]["model"]["commit"]},
        "suite": {
            "name": "datasets/alice/letters-bench",
            "hash": run["inputs"]["suite"]["hash"],
            "repo": "alice/letters-bench",
            "commit": run["inputs"]["suite"]["commit"],
            "file": "suite.yaml",
        },
    }
    log = Client().get(f"/runs/{run_id}/samples/letters.jsonl")
    body = b"".join(log.streaming_content)
    assert hashlib.sha256(body).hexdigest() == payload["tasks"]["letters"]["samples_sha256"]
    assert [json.loads(line)["item_id"] for line in body.decode().splitlines()] == [0, 1, 2, 3]
    assert Client().get(f"/runs/{run_id}/samples/other.jsonl").status_code == 404
