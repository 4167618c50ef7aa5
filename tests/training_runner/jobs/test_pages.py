"""The run pages: the actions on model and dataset pages, the forms, a run's page, its items."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from registry.selectors.revisions import revision_resolve
from tests.support.factories import DEFAULT_PASSWORD, make_user
from tests.training_runner.jobs.conftest import FINE_TUNE, TINY, publish_suite_repo
from training_runner.jobs.models import Run
from training_runner.jobs.services.submit_training import training_run_submit


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=DEFAULT_PASSWORD)
    return client


@pytest.mark.django_db
def test_model_and_dataset_pages_offer_training_and_evaluation(alice, corpus, base_model):
    page = _login(alice).get("/alice/tiny-base").content.decode()
    assert (
        '<a class="button button-small" id="action-train" href="/runs/new/training?base_model=alice/tiny-base">' in page
    )
    assert 'id="action-evaluate" href="/runs/new/evaluation?model=alice/tiny-base"' in page
    assert '<a href="/runs?model=alice/tiny-base" id="tab-runs">Runs</a>' in page
    dataset = _login(alice).get("/datasets/alice/greek").content.decode()
    assert 'href="/runs/new/training?dataset=alice/greek">Train on this dataset</a>' in dataset
    anonymous = Client().get("/alice/tiny-base").content.decode()
    assert "action-train" not in anonymous
    assert Client().get("/runs/new/training").status_code == 302


@pytest.mark.django_db
def test_the_training_form_prefills_reports_field_errors_and_queues(alice, corpus, base_model):
    client = _login(alice)
    form = client.get("/runs/new/training?base_model=alice/tiny-base").content.decode()
    assert 'name="base_model" value="alice/tiny-base"' in form
    assert 'name="output_repo" value="alice/tiny-base-sft"' in form
    assert '<option value="sft" selected>' in form

    values = {
        "recipe": "pretrain_clm",
        "dataset": "alice/greek",
        "output_repo": "alice/greek-lm",
        "params": "train.max_steps=0\n",
    }
    refused = client.post("/runs/new/training", values)
    assert refused.status_code == 400
    assert "train.max_steps: 0 is not allowed; allowed values: numbers &gt; 0" in refused.content.decode()
    assert Run.objects.count() == 0

    params = "\n".join(f"{k}={v}" for k, v in TINY.items())
    queued = client.post("/runs/new/training", {**values, "params": params, "evaluate_after": ["bigbench_mc"]})
    run = Run.objects.get()
    assert (queued.status_code, queued["Location"]) == (302, f"/runs/{run.pk}")
    assert (run.recipe, run.params["train.max_steps"], run.evaluate_after) == ("pretrain_clm", 8, ["bigbench_mc"])


@pytest.mark.django_db
def test_the_evaluation_form_takes_a_shipped_suite_or_one_in_a_repository(alice, base_model):
    publish_suite_repo(alice)
    client = _login(alice)
    assert (
        'name="model" value="alice/tiny-base"'
        in client.get("/runs/new/evaluation?model=alice/tiny-base").content.decode()
    )
    values = {"model": "alice/tiny-base", "suite": "__repo__", "suite_repo": "alice/letters-bench"}
    response = client.post("/runs/new/evaluation", {**values, "suite_file": "suite.yaml"})
    run = Run.objects.get()
    assert response["Location"] == f"/runs/{run.pk}"
    assert (run.suite, run.suite_file) == ("datasets/alice/letters-bench", "suite.yaml")
    missing = client.post("/runs/new/evaluation", {"model": "alice/nothing", "suite": "bigbench_mc"})
    assert missing.status_code == 400
    assert "Repository alice/nothing not found." in missing.content.decode()


@pytest.mark.django_db
def test_a_queued_run_s_page_shows_its_pinned_inputs_and_queue(alice, corpus):
    run = training_run_submit(
        user=alice, recipe="pretrain_clm", dataset="alice/greek", params=TINY, output_repo="alice/greek-lm"
    )
    page = _login(alice).get(f"/runs/{run.pk}").content.decode()
    head = revision_resolve(repo=corpus, revision="main").oid
    assert f"Training run #{run.pk}" in page
    assert '<span class="badge run-state run-state-queued" data-state="queued">Queued</span>' in page
    assert "Next in the queue." in page
    assert f'<a href="/datasets/alice/greek/commit/{head}"><code>{head[:12]}</code></a> (main)' in page
    assert "none — trained from scratch" in page
    assert 'id="cancel-form"' in page
    assert '<progress id="progress-bar" max="8" value="0">' in page
    data = json.loads(re.search(r'<script id="run-data" type="application/json">(.*?)</script>', page).group(1))
    assert data == {"id": run.pk, "kind": "training", "state": "queued", "metrics": [], "last_log_id": 0}
    assert 'id="cancel-form"' not in Client().get(f"/runs/{run.pk}").content.decode()
    listing = Client().get("/runs?model=alice/tiny-base")
    assert listing.status_code == 404  # no such model
    runs = Client().get("/runs?dataset=alice/greek").content.decode()
    assert f'<tr data-run="{run.pk}">' in runs
    assert f'<tr data-run="{run.pk}">' in Client().get("/").content.decode()  # the home page's latest runs

    cancelled = _login(alice).post(f"/runs/{run.pk}/cancel")
    assert cancelled["Location"] == f"/runs/{run.pk}"
    run.refresh_from_db()
    assert run.state == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_finished_evaluation_s_page_shows_scores_and_its_items(alice, base_model):
    from training_runner.jobs.services.submit_evaluation import evaluation_run_submit

    publish_suite_repo(alice)
    run = evaluation_run_submit(user=alice, model="alice/tiny-base", suite="datasets/alice/letters-bench")
    run.refresh_from_db()
    page = Client().get(f"/runs/{run.pk}").content.decode()
    acc = run.results["tasks"]["letters"]["metrics"]["acc"]
    assert (
        f'<td><a href="/runs/{run.pk}/samples?task=letters">letters</a></td><td>acc</td><td>{acc["value"]:.4f}</td>'
        in page
    )
    assert f'<code id="fingerprint">{run.fingerprint}</code>' in page
    assert "cancel-form" not in page
    items = Client().get(f"/runs/{run.pk}/samples?task=letters").content.decode()
    assert "4 items." in items
    assert items.count('<li class="card sample') == 4
    assert "Q: Which letter comes after alpha?\nA:" in items


@pytest.mark.django_db(transaction=True)
def test_a_fine_tuned_model_s_page_shows_its_place_in_the_model_tree(alice, corpus, base_model):
    bob = make_user("bob")
    params = {**FINE_TUNE, "train.max_steps": 2}
    training_run_submit(
        user=bob,
        recipe="pretrain_clm",
        base_model="alice/tiny-base",
        dataset="alice/greek",
        params=params,
        output_repo="bob/greek-ft",
    )
    child = Client().get("/bob/greek-ft").content.decode()
    assert '<ul class="plain" id="tree-parents"><li><a href="/alice/tiny-base">alice/tiny-base</a></li></ul>' in child
    base = Client().get("/alice/tiny-base").content.decode()
    assert '<ul class="plain" id="tree-children"><li><a href="/bob/greek-ft">bob/greek-ft</a></li></ul>' in base
