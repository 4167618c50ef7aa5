"""Gated access in real Chromium: bob and carol answer the questions alice's card declares; alice
reviews the requests in the repository's settings, accepts bob and rejects carol with a reason;
the stock client then downloads for bob and raises ``GatedRepoError`` for carol."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import GatedRepoError
from playwright.sync_api import expect

from registry.models import AccessRequest
from registry.services.repos import repo_update_settings
from tests.e2e.conftest import BrowserPage
from tests.e2e.test_community import PASSWORD, log_in
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CARD = b"""---
extra_gated_prompt: The weights are for **research** only.
extra_gated_fields:
  Affiliation: text
  Use:
    type: select
    options: [Research, Teaching]
  I agree to the terms: checkbox
---
# Gated tiny
"""


def _ask(browser, live_server, username: str, affiliation: str) -> BrowserPage:
    ui = BrowserPage(browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}), "")
    log_in(ui, username)
    page = ui.page
    page.goto("/alice/tiny")
    expect(page.locator("#gate-prompt")).to_contain_text("The weights are for research only.")
    form = page.locator("#gate-form")
    form.get_by_label("Affiliation").fill(affiliation)
    form.get_by_label("Use").select_option("Research")
    form.get_by_label("I agree to the terms").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#gate-status")).to_have_attribute("data-status", "pending")
    return ui


def test_ask_review_accept_and_reject(browser, live_server, browser_page, fast_passwords, tmp_path):
    alice = make_user("alice", password=PASSWORD)
    bob = make_user("bob", password=PASSWORD)
    carol = make_user("carol", password=PASSWORD)
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": CARD, "weights.bin": b"gated weights"})
    repo_update_settings(repo=repo, gated="manual")

    bob_ui = _ask(browser, live_server, "bob", "Uni of Bob")
    carol_ui = _ask(browser, live_server, "carol", "Carol Corp")
    bob_ui.screenshot("gated-pending")

    log_in(browser_page, "alice")
    page = browser_page.page
    page.goto("/alice/tiny")
    expect(page.locator("#gate-pending")).to_have_text("2 pending")
    page.click("#gate-review")
    pending = page.locator("#requests-pending")
    expect(pending.locator("tbody tr")).to_have_count(2)
    expect(pending.locator("tr[data-user=bob]")).to_contain_text("Uni of Bob")
    pending.locator("tr[data-user=bob]").get_by_role("button", name="Accept bob").click()
    expect(page.locator("#requests-accepted tr[data-user=bob]")).to_be_visible()
    carol_row = page.locator("#requests-pending tr[data-user=carol]")
    carol_row.get_by_label("Reason for rejecting carol").fill("Commercial use is not allowed.")
    carol_row.get_by_role("button", name="Reject carol").click()
    expect(page.locator("#requests-rejected tr[data-user=carol]")).to_contain_text("Commercial use is not allowed.")
    browser_page.screenshot("gated-review")
    assert dict(AccessRequest.objects.values_list("user__username", "status")) == {
        "bob": "accepted",
        "carol": "rejected",
    }

    bob_ui.page.reload()
    expect(bob_ui.page.locator("#gate-status")).to_have_attribute("data-status", "accepted")
    carol_ui.page.reload()
    expect(carol_ui.page.locator("#gate-status")).to_have_attribute("data-status", "rejected")
    expect(carol_ui.page.locator("#gate-reason")).to_have_text("Commercial use is not allowed.")

    path = hf_hub_download(
        "alice/tiny", "weights.bin", endpoint=live_server.url, token=make_token(bob), cache_dir=tmp_path / "bob"
    )
    assert Path(path).read_bytes() == b"gated weights"
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            "alice/tiny", "weights.bin", endpoint=live_server.url, token=make_token(carol), cache_dir=tmp_path / "c"
        )
    for ui in (bob_ui, carol_ui, browser_page):
        assert ui.errors == []
        assert ui.console_errors == []
    bob_ui.context.close()
    carol_ui.context.close()
