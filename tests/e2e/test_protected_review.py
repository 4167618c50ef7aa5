"""A contribution to a protected branch in real Chromium: bob, who cannot write to acme/tiny,
uploads a card without a licence and a script as a pull request; the hub's card-lint check fails
and the merge waits; bob fixes the card in the editor and asks carol, the code owner of the
script, for a review; carol comments on a line, then approves; alice merges. Each of them finds
the pull request's news in their inbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from community.models import Discussion
from community.services.branch_rules import branch_rule_set
from tests.e2e.conftest import BrowserPage
from tests.e2e.test_community import PASSWORD, log_in, main_file
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NO_LICENCE = "---\ntags:\n- tiny\n---\n# Tiny\n\nA tiny model.\n"
WITH_LICENCE = "---\nlicense: mit\ntags:\n- tiny\n---\n# Tiny\n\nA tiny model.\n"
SCRIPT = "def greet():\n    print('hello')\n"


@pytest.fixture
def cast(browser, live_server, browser_page, fast_passwords):
    alice = make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)
    make_user("carol", password=PASSWORD)
    org = make_org("acme", admin=alice, members={"carol": "write"})
    repo = make_repo(alice, "tiny", namespace=org.namespace)
    commit_files(repo, alice, {"README.md": WITH_LICENCE.encode(), "CODEOWNERS": b"*.py @carol\n"}, summary="Start")
    branch_rule_set(
        repo=repo, branch="main", require_pull_request=True, required_approvals=1, required_checks=["card-lint"],
        code_owners=True, actor=alice,
    )  # fmt: skip
    pages = {"bob": browser_page}
    contexts = []
    for name in ("alice", "carol"):
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        pages[name] = BrowserPage(context, live_server.url)
    for name, ui in pages.items():
        log_in(ui, name)
    yield repo, pages
    for context in contexts:
        context.close()


def test_protected_branch_review_from_failing_check_to_merge(cast, tmp_path):
    repo, uis = cast
    bob, carol, alice = (uis[name].page for name in ("bob", "carol", "alice"))

    # bob uploads a card without a licence and a script: a pull request, whose card check fails.
    bob.goto("/acme/tiny/upload/main")
    bob.wait_for_selector("#upload-form[data-ready]")
    (tmp_path / "README.md").write_text(NO_LICENCE)
    (tmp_path / "greet.py").write_text(SCRIPT)
    bob.set_input_files("#file-input", [str(tmp_path / "README.md"), str(tmp_path / "greet.py")])
    bob.fill("#commit-summary", "Add a greeting")
    bob.click("#upload-submit")
    expect(bob.locator("#upload-status")).to_contain_text("Opened pull request #1 with 2 files")
    bob.click("#upload-done-link")
    expect(bob).to_have_url(re.compile(r"/acme/tiny/discussions/1$"))
    expect(bob.locator("#checks")).to_contain_text("card-lint")
    expect(bob.locator("#checks li", has_text="card-lint").locator(".check-failure")).to_have_text("Failure")
    expect(bob.locator("#checks")).to_contain_text("license: the card names no licence")

    # bob fixes the card in the editor, onto his pull request: the check passes.
    bob.click("#tab-files")
    bob.click("a[aria-label='Edit README.md']")
    bob.fill("#id_content", WITH_LICENCE)
    bob.fill("#id_summary", "Name the licence")
    bob.click("#edit-submit")
    expect(bob).to_have_url(re.compile(r"/acme/tiny/discussions/1/files$"))
    bob.click("nav.subtabs a:text('Conversation')")
    expect(bob.locator("#checks li", has_text="card-lint").locator(".check-success")).to_have_text("Success")
    expect(bob.locator("#merge")).to_contain_text("code owner of greet.py (carol)")

    # ... and asks carol, the code owner of the script, for a review.
    bob.fill("#reviewers", "carol")
    bob.click("#review-request button[type=submit]")
    expect(bob.locator(".messages")).to_contain_text("Review requested from carol.")

    # carol finds the request in her inbox, comments on a line, then approves.
    carol.goto("/notifications")
    expect(carol.locator(".notification-list")).to_contain_text("Add a greeting")
    carol.goto("/acme/tiny/discussions/1")
    carol.check("input[name=review][value=changes_requested]")
    carol.fill("#review-text", "One question on the script.")
    carol.click("#line-comment summary")
    carol.fill("#line-path", "greet.py")
    carol.fill("#line-number", "2")
    carol.fill("#line-body", "Should this say hello to someone?")
    carol.click("#review-submit")
    expect(carol.locator("#reviews .review-list")).to_contain_text("Changes requested")
    carol.click("#tab-files")
    expect(carol.locator(".diff-notes")).to_contain_text("carol: Should this say hello to someone?")
    carol.click("nav.subtabs a:text('Conversation')")
    carol.check("input[name=review][value=approved]")
    carol.fill("#review-text", "Fine as it is.")
    carol.click("#review-submit")
    expect(carol.locator("#reviews .review-list")).to_contain_text("Approved")

    # alice (admin of acme) merges; main has the script and the licensed card.
    alice.goto("/notifications")
    expect(alice.locator(".notification-list")).to_contain_text("Add a greeting")
    alice.goto("/acme/tiny/discussions/1")
    expect(alice.locator("#merge-ready")).to_contain_text("no conflicts with main")
    alice.click("#merge-button")
    expect(alice.locator(".messages")).to_contain_text("Pull request #1 merged into main")
    assert main_file(repo, "greet.py") == SCRIPT
    assert main_file(repo, "README.md") == WITH_LICENCE
    assert Discussion.objects.get().status == "merged"

    # bob hears of carol's reviews and of the merge.
    bob.goto("/notifications")
    inbox = bob.locator(".notification-list")
    expect(inbox).to_contain_text("merged")
    expect(inbox).to_contain_text("carol")
    for ui in uis.values():
        assert (ui.errors, ui.console_errors, ui.dialogs) == ([], [], [])
