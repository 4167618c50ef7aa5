"""Runs executed in-process: training from scratch and fine-tuning publish with lineage;
evaluation records per-item results equal to the harness run directly."""

from __future__ import annotations

import pytest
import yaml

from registry.models import Repo
from registry.selectors.pages import file_read
from registry.selectors.revisions import revision_resolve
from registry.trees import tree_lookup
from tests.training_runner.jobs.conftest import FINE_TUNE, TINY, publish_suite_repo
from training_runner.jobs.choices import RunState
from training_runner.jobs.models import RunLogLine, RunMetric
from training_runner.jobs.services.submit_training import training_run_submit

# The worker records from a thread of its own (its own connection): the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def _card(repo: Repo, revision: str) -> dict:
    commit = revision_resolve(repo=repo, revision=revision).commit
    text = file_read(file=tree_lookup(commit.tree_oid, "README.md"), limit=1 << 20).decode()
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_a_training_run_from_scratch_publishes_a_model_with_its_lineage(alice, corpus):
    # Committed at once here, so the fair queue sends it on and the (inline) worker runs it.
    run = training_run_submit(
        user=alice,
        recipe="pretrain_clm",
        dataset="alice/greek",
        params=TINY,
        output_repo="alice/greek-tiny",
        site_url="http://hub.test/",
    )
    assert run.dataset_commit == revision_resolve(repo=corpus, revision="main").oid
    run.refresh_from_db()

    assert run.state == RunState.SUCCEEDED, run.reason
    output = Repo.objects.get(namespace__name="alice", name="greek-tiny")
    head = revision_resolve(repo=output, revision="main").oid
    assert run.output_commit == head
    assert run.reason == f"Published to alice/greek-tiny as commit {head[:12]}."
    card = _card(output, "main")
    assert card["datasets"] == ["alice/greek"]
    assert "base_model" not in card
    assert card["training_run"] == {
        "id": run.pk,
        "url": f"http://hub.test/runs/{run.pk}",
        "recipe": "pretrain_clm",
        "inputs": {"datasets": [{"repo": "alice/greek", "commit": run.dataset_commit}]},
    }
    assert card["hyperparameters"]["max_steps"] == 8
    assert sorted(r.step for r in RunMetric.objects.filter(run=run, event="train")) == list(range(1, 9))
    assert [r.step for r in RunMetric.objects.filter(run=run, event="eval")] == [4, 8]
    assert run.results["val_loss"] == RunMetric.objects.get(run=run, event="eval", step=8).values["val_loss"]
    assert [(t.from_state, t.to_state) for t in run.transitions.all()] == [
        ("", "queued"),
        ("queued", "running"),
        ("running", "succeeded"),
    ]
    messages = list(RunLogLine.objects.filter(run=run).values_list("message", flat=True))
    assert messages[0] == f"Attempt 1 on {run.worker}."
    assert "Dataset alice/greek@" + run.dataset_commit[:12] + ": 2 data files." in messages
    assert any(m.startswith("event=train step=2 loss=") for m in messages)  # the core's printed lines
    assert (run.step, run.checkpoint_key, run.checkpoint_step) == (8, "", None)  # checkpoints removed


def test_fine_tuning_into_a_pull_request_records_the_base_model_and_shows_in_the_model_tree(alice, corpus, base_model):
    from community.models import Discussion
    from registry.selectors.repos import repo_model_tree
    from tests.support.factories import make_user

    bob = make_user("bob")
    base_head = revision_resolve(repo=base_model, revision="main").oid
    # Bob may read alice/tiny-base but not write to it: his fine-tune becomes a pull request there.
    run = training_run_submit(
        user=bob,
        recipe="pretrain_clm",
        base_model="alice/tiny-base",
        dataset="alice/greek",
        params=FINE_TUNE,
        output_repo="alice/tiny-base",
        output_pull_request=True,
    )
    run.refresh_from_db()

    assert run.state == RunState.SUCCEEDED, run.reason
    assert (run.model_commit, run.model_revision) == (base_head, "main")
    pr = Discussion.objects.get(repo=base_model, num=run.output_pull_request)
    assert (pr.is_pull_request, pr.author.username, pr.status) == (True, "bob", "open")
    assert run.reason == f"Published to pull request #{pr.num} of alice/tiny-base as commit {run.output_commit[:12]}."
    assert revision_resolve(repo=base_model, revision="main").oid == base_head  # main untouched
    card = _card(base_model, f"refs/pr/{pr.num}")
    assert card["base_model"] == "alice/tiny-base"
    assert card["training_run"]["inputs"]["base_model"] == {"repo": "alice/tiny-base", "commit": base_head}

    # A fine-tune published to its own repository joins the base model's tree.
    second = training_run_submit(
        user=bob,
        recipe="pretrain_clm",
        base_model="alice/tiny-base",
        dataset="alice/greek",
        params=FINE_TUNE,
        output_repo="bob/tiny-greek",
    )
    second.refresh_from_db()
    assert second.state == RunState.SUCCEEDED, second.reason
    child = Repo.objects.get(namespace__name="bob", name="tiny-greek")
    tree = repo_model_tree(user=None, repo=base_model, base_models=[])
    assert [r.repo_id for r in tree["children"]] == ["bob/tiny-greek"]
    tree = repo_model_tree(user=None, repo=child, base_models=["alice/tiny-base", "gone/missing"])
    assert [r.repo_id for r in tree["parents"]] == ["alice/tiny-base"]


def test_a_dataset_without_the_column_the_recipe_reads_fails_the_run_and_publishes_nothing(alice):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from registry.choices import RepoType
    from tests.frontend.builders import commit_files, make_repo

    repo = make_repo(alice, "rows", repo_type=RepoType.DATASET)
    table = pa.table({"body": [f"row {i} " * 10 for i in range(60)]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    commit_files(repo, alice, {"data/train.parquet": buffer.getvalue()})
    # The submission reads the first record of .jsonl files; Parquet columns are the worker's to check.
    run = training_run_submit(
        user=alice, recipe="pretrain_clm", dataset="alice/rows", params=TINY, output_repo="alice/rows-model"
    )
    run.refresh_from_db()

    assert run.state == RunState.FAILED
    assert run.reason == "data.text_field: field 'text' is not in the data; the records have ['body']"
    assert not Repo.objects.filter(name="rows-model").exists()
    assert run.transitions.last().reason == run.reason
    assert RunLogLine.objects.filter(run=run, level="error").values_list("message", flat=True)[0] == run.reason


def test_an_evaluation_run_records_the_harness_results_item_by_item(alice, base_model, shared_data, tmp_path):
    from evals.harness.run import run_suite
    from registry.snapshots import snapshot_materialize
    from training_runner.jobs.models import EvalSample
    from training_runner.jobs.services.submit_evaluation import evaluation_run_submit

    run = evaluation_run_submit(user=alice, model="alice/tiny-base", suite="bigbench_mc", limit=2)
    run.refresh_from_db()

    assert run.state == RunState.SUCCEEDED, run.reason
    model_dir = snapshot_materialize(repo=base_model, commit_oid=run.model_commit, root=tmp_path / "snap")
    direct = run_suite(
        model_dir=model_dir, suite="bigbench_mc", data_dir=shared_data, limit=2, adapter="core", batch_size=3
    )
    assert run.fingerprint == run.results["fingerprint"]
    assert run.results["tasks"].keys() == direct.results["tasks"].keys()
    for task, records in direct.samples.items():
        stored = EvalSample.objects.filter(run=run, task=task).order_by("position")
        assert [s.record["item_id"] for s in stored] == [r["item_id"] for r in records]
        # Bitwise: the same floats, whatever the batch size.
        assert [s.record["responses"] for s in stored] == [r["responses"] for r in records]
        assert [s.correct for s in stored] == [bool(r["metrics"]["acc"]) for r in records]
        assert run.results["tasks"][task]["metrics"] == direct.results["tasks"][task]["metrics"]
    assert run.results["suite"]["aggregate"] == direct.results["suite"]["aggregate"]
    assert run.step == run.total_steps == 12
    assert set(run.progress["scores"]) == set(direct.results["tasks"])
    value = run.results["suite"]["aggregate"]["value"]
    assert run.reason == f"Scored 24 items; acc = {value:.4g}."


def test_a_suite_defined_in_a_dataset_repository_runs_end_to_end(alice, base_model):
    from training_runner.jobs.services.submit_evaluation import evaluation_run_submit

    suite_repo = publish_suite_repo(alice)
    run = evaluation_run_submit(user=alice, model="alice/tiny-base", suite="datasets/alice/letters-bench")
    run.refresh_from_db()

    assert run.state == RunState.SUCCEEDED, run.reason
    assert (run.dataset_repo_id, run.suite_file) == (suite_repo.pk, "suite.yaml")
    assert run.dataset_commit == revision_resolve(repo=suite_repo, revision="main").oid
    assert run.results["suite"]["name"] == "letters-suite"
    assert run.results["suite"]["hash"] == run.suite_hash
    assert run.results["tasks"]["letters"]["n"] == 4
    assert run.samples.count() == 4


def test_a_worker_that_shuts_down_hands_its_run_back_to_resume_later(alice, corpus):
    import threading
    import time

    from training_runner.jobs.models import Run
    from training_runner.jobs.services.execute import run_execute
    from training_runner.jobs.services.recorder import WORKER_STOPPING

    def stop_when_training() -> None:  # what Celery's warm shutdown does, once the run has begun
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not RunMetric.objects.filter(event="train", step__gte=3).exists():
            time.sleep(0.1)
        WORKER_STOPPING.set()

    watcher = threading.Thread(target=stop_when_training)
    watcher.start()
    try:
        run = training_run_submit(
            user=alice,
            recipe="pretrain_clm",
            dataset="alice/greek",
            output_repo="alice/long",
            params={**TINY, "train.max_steps": 100_000, "train.eval_interval": 0},
        )
    finally:
        watcher.join()
        WORKER_STOPPING.clear()
    run.refresh_from_db()
    assert run.state == RunState.QUEUED
    assert run.reason == (
        f"The worker shut down at step {run.checkpoint_step}; the run resumes from that checkpoint on the next one."
    )
    assert run.checkpoint_step >= 3
    assert run.dispatched_at is None  # left to the watchdog: this worker takes nothing new
    # The next worker resumes it from that checkpoint (the run is made short here, then resumed).
    stopped_at = run.checkpoint_step
    train = {**run.config["train"], "max_steps": stopped_at + 2}
    Run.objects.filter(pk=run.pk).update(config={**run.config, "train": train})
    run_execute(run_id=run.pk, worker="next@host")
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.reason
    assert run.step == stopped_at + 2
    resumed = run.transitions.filter(to_state="running").last().reason
    assert resumed == f"Started on next@host (attempt 2, resuming from the checkpoint of step {stopped_at})."
