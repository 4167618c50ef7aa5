"""A collection in real Chromium: alice creates one from the header's link, adds a model and a
dataset with notes, moves the dataset first, renames it; bob upvotes it; deleting asks first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from registry.choices import RepoType
from registry.models import Collection
from tests.e2e.conftest import BrowserPage
from tests.e2e.test_community import PASSWORD, log_in
from tests.frontend.builders import make_repo
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_curate_a_collection_and_upvote_it(browser, live_server, browser_page, fast_passwords):
    alice = make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)
    make_repo(alice, "tiny")
    make_repo(alice, "stories", repo_type=RepoType.DATASET)
    log_in(browser_page, "alice")
    page = browser_page.page

    page.goto("/")
    page.click("#nav-links >> text=Collections")
    page.click("text=New collection")
    page.fill("#id_title", "Starter kit")
    page.fill("#id_description", "What to try first")
    page.click("#collection-new-form button[type=submit]")
    expect(page.locator("#collection-title")).to_have_text("Starter kit")

    for kind, item, note in (("model", "alice/tiny", "Small and quick"), ("dataset", "alice/stories", "Its data")):
        page.select_option("#id_type", kind)
        page.fill("#id_item", item)
        page.fill("#id_note", note)
        page.click("#collection-item-form button[type=submit]")
    items = page.locator("#collection-items > li")
    expect(items).to_have_count(2)
    items.nth(1).locator("summary").click()
    items.nth(1).get_by_role("button", name="Move up").click()
    expect(items.nth(0)).to_contain_text("alice/stories")
    expect(items.nth(0)).to_contain_text("Its data")
    expect(items.nth(1)).to_contain_text("Small and quick")

    page.fill("#collection-settings-form #id_title", "Starter pack")
    page.click("#collection-settings-form button[type=submit]")
    expect(page.locator("#collection-title")).to_have_text("Starter pack")
    collection = Collection.objects.get()
    assert page.url == f"{live_server.url}{collection.web_path}"
    browser_page.screenshot("collection-owner")

    # Deleting asks first; dismissed, nothing is deleted.
    page.click("#collection-delete-form button")
    assert browser_page.dialogs == ["confirm: Delete this collection? Its items and notes are lost."]
    assert Collection.objects.count() == 1

    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    bob_ui = BrowserPage(context, live_server.url)
    log_in(bob_ui, "bob")
    bob_ui.page.goto(collection.web_path)
    expect(bob_ui.page.locator("#collection-settings-form")).to_have_count(0)
    bob_ui.page.get_by_role("button", name=re.compile("Upvote")).click()
    expect(bob_ui.page.locator("#upvote-count")).to_have_text("1")
    assert bob_ui.page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    bob_ui.screenshot("phone-collection")
    assert bob_ui.errors + bob_ui.console_errors + browser_page.errors + browser_page.console_errors == []
    context.close()
