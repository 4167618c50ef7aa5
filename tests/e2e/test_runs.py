"""Runs in real Chromium, on a real worker: alice fine-tunes her model on her dataset from the
model's page, watches the loss curve grow while it trains, finds the published model with its
lineage, evaluates it and reads the scores and the scored items."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from registry.models import Repo
from tests.e2e.test_community import log_in
from tests.support.factories import make_user
from tests.support.processes import celery_worker, publishing_to
from tests.training_runner.jobs.conftest import (
    publish_corpus,
    publish_model,
    publish_suite_repo,
    train_tiny_decoder,
)
from training_runner.jobs.models import Run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

# Long enough to watch: a few hundred tiny steps.
PARAMS = """train.max_steps=600
train.batch_size=4
data.seq_len=32
train.eval_interval=100
train.eval_batches=2
optim.warmup_steps=5
"""


@pytest.fixture
def hub(tmp_path, settings, fast_passwords):
    settings.HUB_RUN_WORK_DIR = tmp_path / "runs"
    settings.HUB_SNAPSHOT_DIR = tmp_path / "snapshots"
    alice = make_user("alice")
    publish_corpus(alice)
    publish_model(alice, "tiny-base", train_tiny_decoder(tmp_path / "base"))
    publish_suite_repo(alice)
    env = {"OMP_NUM_THREADS": "1", "HUB_RUN_HEARTBEAT_SECONDS": "0.5"}
    with celery_worker(queues="default,gpu", name="e2e-runs", env=env) as worker, publishing_to(None):
        yield worker
        assert worker.poll() is None, worker.stdout.read()


def chart_points(page) -> int:
    """How many training steps the run page's loss curve shows."""
    return int(page.locator("#loss-chart").get_attribute("data-points") or 0)


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def test_fine_tune_from_the_model_page_watch_it_train_then_evaluate(hub, browser_page):
    ui = browser_page
    page = ui.page
    log_in(ui, "alice")

    page.goto("/alice/tiny-base")
    page.click("#action-train")
    expect(page.locator("#id_base_model")).to_have_value("alice/tiny-base")
    page.select_option("#id_recipe", "pretrain_clm")
    page.fill("#id_dataset", "alice/greek")
    page.fill("#id_output_repo", "alice/tiny-greek")
    page.fill("#id_params", PARAMS)
    page.click("#run-new-form button[type=submit]")

    run = Run.objects.get()
    expect(page).to_have_url(f"{ui.base_url}/runs/{run.pk}")
    # The curve grows while the run trains, without reloading the page.
    wait_for(lambda: chart_points(page) >= 5, timeout=120, what="the first points of the loss curve")
    expect(page.locator("#run-state")).to_contain_text("Running")
    expect(page.locator("#run-history li")).to_have_count(2)  # queued, then running: kept current too
    first = chart_points(page)
    wait_for(lambda: chart_points(page) > first, timeout=60, what="the curve to grow")
    expect(page.locator("#loss-chart canvas")).to_have_count(1)
    ui.screenshot("run-training")

    expect(page.locator("#run-state")).to_contain_text("Succeeded", timeout=300_000)
    expect(page.locator("#run-reason")).to_contain_text("Published to alice/tiny-greek as commit")
    expect(page.locator("#final-metrics")).to_contain_text("val_loss")

    page.click("#run-output a[href='/alice/tiny-greek']")
    expect(page.locator("#tree-parents")).to_have_text("alice/tiny-base")
    expect(page.locator("#repo-facts")).to_contain_text("alice/greek")

    page.click("#action-evaluate")
    page.check("input[name=suite][value=__repo__]")
    page.fill("#id_suite_repo", "alice/letters-bench")
    page.click("#run-new-form button[type=submit]")
    evaluation = Run.objects.filter(kind="evaluation").get()
    expect(page).to_have_url(f"{ui.base_url}/runs/{evaluation.pk}")
    expect(page.locator("#run-state")).to_contain_text("Succeeded", timeout=300_000)
    expect(page.locator("#task-scores tbody tr")).to_have_count(2)  # acc and acc_norm of one task
    expect(page.locator("#aggregate")).to_contain_text("letters-suite: acc (mean) =")
    ui.screenshot("run-evaluation")

    page.click("text=Browse the scored items")
    expect(page.locator("#samples > li")).to_have_count(4)
    expect(page.locator("#samples")).to_contain_text("Q: Which letter comes after alpha?")
    assert Repo.objects.get(name="tiny-greek").card_data["base_model"] == "alice/tiny-base"
    assert (ui.errors, ui.console_errors) == ([], [])
