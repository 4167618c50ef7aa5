"""The Clone button of a repository page shows the git command and copies it (real Chromium)."""

import pytest

from registry.choices import RepoType
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("repo_type", "prefix"), [(RepoType.MODEL, ""), (RepoType.DATASET, "datasets/")])
def test_clone_button_shows_and_copies_the_command(browser_page, live_server, repo_type, prefix):
    alice = make_user("alice")
    repo = make_repo(alice, "tiny", repo_type=repo_type)
    commit_files(repo, alice, {"README.md": b"# Tiny\n"}, summary="Card")
    browser_page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = browser_page.page
    page.goto(f"/{prefix}alice/tiny")
    command = page.locator("#clone-command")
    assert not command.is_visible()
    page.get_by_text("Clone", exact=True).click()
    expected = f"git lfs install\ngit clone {live_server.url}/{prefix}alice/tiny"
    assert command.inner_text() == expected
    page.get_by_role("button", name="Copy the clone command").click()
    page.get_by_role("button", name="Copy the clone command").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == expected
    browser_page.screenshot(f"repo-clone-{repo_type.value}")
    assert browser_page.errors == []
    assert browser_page.console_errors == []
