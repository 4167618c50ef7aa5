"""Leaderboards in real Chromium, on a real worker: alice submits her model from its page and a
second one from the board, watches them queue and finish, opens a score's evidence, compares the
two item by item, sorts and filters; bob's pull request with new weights shows its delta."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from community.services.discussions import pull_request_propose
from evals.leaderboards.models import Entry
from evals.leaderboards.services.boards import leaderboard_create
from registry.services.commits import AddFile
from registry.storage import stage_bytes
from tests.e2e.test_community import log_in
from tests.support.factories import make_org, make_user
from tests.support.processes import celery_worker, publishing_to
from tests.training_runner.jobs.conftest import publish_model, publish_suite_repo, train_tiny_decoder

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


@pytest.fixture
def hub(tmp_path, settings, fast_passwords):
    settings.HUB_RUN_WORK_DIR = tmp_path / "runs"
    settings.HUB_SNAPSHOT_DIR = tmp_path / "snapshots"
    alice, bob = make_user("alice"), make_user("bob")
    acme = make_org("acme", admin=alice)
    publish_suite_repo(alice)
    board = leaderboard_create(
        user=alice, namespace=acme.namespace, name="letters", title="Letters", suite="datasets/alice/letters-bench"
    )
    publish_model(alice, "tiny-base", train_tiny_decoder(tmp_path / "base"))
    second = train_tiny_decoder(tmp_path / "second", seed=11, steps=30)
    publish_model(alice, "tiny-second", second)
    env = {"OMP_NUM_THREADS": "1", "HUB_RUN_HEARTBEAT_SECONDS": "0.5"}
    with celery_worker(queues="default,gpu", name="e2e-boards", env=env) as worker, publishing_to(None):
        yield {"board": board, "bob": bob, "second": second}
        assert worker.poll() is None, worker.stdout.read()


def wait_for_entries(page, count: int, *, timeout: float = 180) -> None:
    """Reload the board until ``count`` finished entries are ranked on it."""
    deadline = time.monotonic() + timeout
    while page.locator("#board tbody tr").count() < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"the board did not show {count} entries in {timeout:.0f} s")
        time.sleep(1)
        page.reload()


def test_submit_watch_evidence_compare_sort_and_a_pull_request_delta(hub, browser_page):
    ui, board = browser_page, hub["board"]
    page = ui.page
    log_in(ui, "alice")

    page.goto("/alice/tiny-base")
    page.select_option("#leaderboard-choice", "acme/letters")
    page.click("#leaderboard-submit-button")
    expect(page).to_have_url(f"{ui.base_url}{board.web_path}#queue")
    expect(page.locator("#queue-table tbody tr").first).to_contain_text("alice/tiny-base")
    page.fill("#submit-form input[name=model]", "alice/tiny-second")
    page.click("#submit-form button[type=submit]")
    expect(page.locator("#queue-table tbody tr")).to_have_count(2)
    ui.screenshot("leaderboard-queue")

    wait_for_entries(page, 2)
    expect(page.locator("#queue-table")).to_contain_text("Finished")
    expect(page.locator("#board tbody tr").first.locator("td.rank")).to_contain_text("[")
    expect(page.locator("#board-chart canvas")).to_have_count(1)
    ui.screenshot("leaderboard")

    # Sort by the task column, lowest first, then highest first again.
    first_model = page.locator("#board tbody tr").first.locator("td").nth(1).text_content()
    page.click("#board thead a:has-text('letters acc')")
    page.click("#board thead a:has-text('letters acc')")
    expect(page).to_have_url(f"{ui.base_url}{board.web_path}?sort=-letters%3Aacc")
    page.fill("#board-filters input[name=max_parameters]", "1")
    page.click("#board-filters button[type=submit]")
    expect(page.locator("#board tbody tr")).to_have_count(0)
    page.goto(board.web_path)
    assert page.locator("#board tbody tr").first.locator("td").nth(1).text_content() == first_model

    # A score's evidence: the items behind it.
    page.locator("#board tbody tr").first.locator("td.num a").first.click()
    expect(page.locator("#samples > li")).to_have_count(4)
    page.go_back()

    # Compare the two, item by item.
    picks = page.locator(".compare-pick")
    picks.nth(0).check()
    picks.nth(1).check()
    page.click("#compare-button")
    expect(page.locator("#deltas tbody tr")).to_have_count(2)
    expect(page.locator("h1")).to_contain_text("vs")
    ui.screenshot("leaderboard-compare")

    # bob proposes the better-trained weights: his pull request is evaluated and shows its delta.
    base = Entry.objects.get(model_repo_name="alice/tiny-base", current=True).model_repo
    weights = (hub["second"] / "model.safetensors").read_bytes()
    pr = pull_request_propose(
        repo=base,
        user=hub["bob"],
        branch="main",
        summary="Train longer",
        operations=[AddFile(path="model.safetensors", staged=stage_bytes(weights))],
    )
    deadline = time.monotonic() + 180
    while Entry.objects.filter(pull_request=pr.num, state="finished").count() == 0:
        assert time.monotonic() < deadline, "the pull request's evaluation did not finish"
        time.sleep(1)
    page.goto(f"/alice/tiny-base/discussions/{pr.num}")
    expect(page.locator("#leaderboard-delta")).to_contain_text("acme/letters")
    expect(page.locator("#leaderboard-delta tbody tr")).to_have_count(2)
    ui.screenshot("pull-request-delta")
    assert (ui.errors, ui.console_errors) == ([], [])
