"""A contribution from start to merge in real Chromium: bob, who cannot write to alice/tiny,
uploads a file as a pull request; alice requests changes (with the keyboard only); bob fixes the
file in the editor, onto the pull request; alice approves and merges; the file is on main."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from community.models import Discussion
from registry.models import GitCommit
from registry.selectors.pages import file_read
from registry.trees import tree_lookup
from tests.e2e.conftest import BrowserPage
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
BUGGY = "def greet():\n    print('helo')\n"
FIXED = "def greet():\n    print('hello')\n"


def log_in(ui: BrowserPage, username: str) -> None:
    page = ui.page
    page.goto("/login")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("nav.nav")).to_contain_text("Log out")


def main_file(repo, path: str) -> str | None:
    head = GitCommit.objects.get(repo=repo, oid=repo.refs.get(name="refs/heads/main").target_oid)
    info = tree_lookup(head.tree_oid, path)
    return file_read(file=info, limit=10**6).decode() if info is not None else None


@pytest.fixture
def people(browser, live_server, browser_page, fast_passwords):
    alice = make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": b"# Tiny\n"}, summary="Start")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    alice_ui = BrowserPage(context, live_server.url)
    log_in(browser_page, "bob")
    log_in(alice_ui, "alice")
    yield repo, browser_page, alice_ui
    context.close()


def test_pull_request_from_upload_to_review_to_merge(people, tmp_path):
    repo, bob_ui, alice_ui = people
    bob, alice = bob_ui.page, alice_ui.page

    # bob uploads a file; he cannot write, so the upload opens a pull request.
    bob.goto("/alice/tiny/upload/main")
    bob.wait_for_selector("#upload-form[data-ready]")
    expect(bob.locator("#upload-destination")).to_contain_text("your files will open a pull request against main")
    (tmp_path / "greet.py").write_text(BUGGY)
    bob.set_input_files("#file-input", str(tmp_path / "greet.py"))
    bob.fill("#commit-summary", "Add a greeting")
    bob.fill("#commit-description", "A **friendly** start.")
    bob.click("#upload-submit")
    expect(bob.locator("#upload-status")).to_contain_text("Opened pull request #1 with 1 file")
    assert main_file(repo, "greet.py") is None
    bob.click("#upload-done-link")
    expect(bob).to_have_url(re.compile(r"/alice/tiny/discussions/1$"))
    expect(bob.locator("#discussion-title")).to_have_text("Add a greeting")

    # alice finds it in the Community tab and requests changes, using only the keyboard.
    alice.goto("/alice/tiny")
    expect(alice.locator("#tab-community .tab-count")).to_contain_text("1")
    alice.click("#tab-community")
    expect(alice.locator("#discussions .discussion-title")).to_have_text(["Add a greeting"])
    alice_ui.screenshot("20-community-list")
    alice.click("#discussions .discussion-title")
    alice.focus("input[name=review][value=changes_requested]")
    alice.keyboard.press("Space")
    alice.keyboard.press("Tab")  # leaves the radio group for the comment box
    alice.keyboard.type("Typo: `helo` should be `hello`.")
    alice.focus("#review-submit")
    alice.keyboard.press("Enter")
    expect(alice.locator("#reviews .review-list")).to_contain_text("Changes requested")
    expect(alice.locator("#review-warning")).to_contain_text("1 reviewer asked for changes")

    # bob fixes the file in the editor, from the Files changed view, onto his pull request.
    bob.reload()
    expect(bob.locator("#timeline")).to_contain_text("Typo: helo should be hello.")
    bob.click("#tab-files")
    expect(bob.locator(".diff-lines")).to_contain_text("print('helo')")
    bob.click("a[aria-label='Edit greet.py']")
    expect(bob.locator("#edit-destination")).to_contain_text("Your commit goes onto pull request #1")
    bob.fill("#id_content", FIXED)
    bob.fill("#id_summary", "Fix the greeting")
    bob.click("#edit-submit")
    expect(bob).to_have_url(re.compile(r"/alice/tiny/discussions/1/files$"))
    expect(bob.locator(".diff-lines")).to_contain_text("print('hello')")

    # alice approves and merges; the file is on main.
    alice.reload()
    expect(alice.locator("#timeline")).to_contain_text("Fix the greeting")
    alice.check("input[name=review][value=approved]")
    alice.fill("#review-text", "Thanks!")
    alice.click("#review-submit")
    expect(alice.locator("#reviews .review-list")).to_contain_text("Approved")
    expect(alice.locator("#merge-ready")).to_contain_text("1 changed file; no conflicts with main.")
    alice_ui.screenshot("21-pull-request")
    alice.click("#tab-files")
    expect(alice.locator("#diff-summary")).to_contain_text("1 changed file, 2 additions, 0 deletions")
    alice_ui.screenshot("22-files-changed")
    alice.click("nav.subtabs a:text('Conversation')")
    alice.click("#merge-button")
    expect(alice.locator(".messages")).to_have_text("Pull request #1 merged into main by fast-forward.")
    expect(alice.locator("#discussion-status")).to_have_text("Merged")
    assert main_file(repo, "greet.py") == FIXED
    pull_request = Discussion.objects.get()
    assert [event.type for event in pull_request.events.all()] == [
        "comment", "commit", "comment", "commit", "comment", "status-change",
    ]  # fmt: skip
    for ui in (bob_ui, alice_ui):
        assert (ui.errors, ui.console_errors, ui.dialogs) == ([], [], [])
