"""Moderation in real Chromium: bob reports alice's model, the moderator disables it from the
queue, the public log shows it and the stock client is refused; alice appeals from the model's
page, the appeal reaches the queue and the moderator reverses it; the client downloads again."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import DisabledRepoError, LocalEntryNotFoundError
from playwright.sync_api import expect

from community.moderation.models import Appeal, ModerationAction
from tests.community.moderation.helpers import make_moderator
from tests.e2e.conftest import BrowserPage
from tests.e2e.test_community import PASSWORD, log_in
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_token, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _ui(browser, live_server, username: str) -> BrowserPage:
    ui = BrowserPage(browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}), "")
    log_in(ui, username)
    return ui


def test_report_disable_log_appeal_reverse(browser, live_server, browser_page, fast_passwords, tmp_path):
    alice = make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)
    make_moderator("mod", password=PASSWORD)
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": b"# Tiny\n", "weights.bin": b"tiny weights"})
    token = make_token(alice)

    # bob reports the model from its page.
    log_in(browser_page, "bob")
    page = browser_page.page
    page.goto("/alice/tiny")
    page.click("#report-repo")
    expect(page.locator("h1")).to_have_text("Report repository alice/tiny")
    page.get_by_label("Reason").select_option("malware")
    page.get_by_label("Details").fill("The pickle runs a shell command.")
    page.locator("#report-form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("the moderators will review your report")

    # The moderator disables it from the queue.
    mod = _ui(browser, live_server, "mod")
    mod.page.click("#nav-moderation")
    row = mod.page.locator("#reports tbody tr").first
    expect(row).to_contain_text("alice/tiny")
    expect(row).to_contain_text("The pickle runs a shell command.")
    row.locator("select[name=action]").select_option("disable_repo")
    row.locator("input[name=note]").fill("Confirmed by reading the pickle.")
    row.get_by_role("button", name="Act on report").click()
    expect(mod.page.locator(".messages")).to_contain_text("disable repo")
    expect(mod.page.locator("#reports")).to_contain_text("No open reports.")
    action = ModerationAction.objects.get()

    # The public log shows it, to anyone; downloads are refused with the moderation action named.
    anonymous = BrowserPage(browser.new_context(base_url=live_server.url), "")
    anonymous.page.goto("/moderation/log")
    entry = anonymous.page.locator(f"#action-{action.pk}")
    expect(entry).to_contain_text("Repository disabled")
    expect(entry).to_contain_text("alice/tiny")
    expect(entry).to_contain_text("Malware")
    expect(anonymous.page.locator("#moderation-log")).not_to_contain_text("Confirmed by reading")
    # The client wraps the error of its HEAD request; the cause is the Hub's disabled-repository error.
    with pytest.raises(LocalEntryNotFoundError) as refused:
        hf_hub_download("alice/tiny", "weights.bin", endpoint=live_server.url, token=token, cache_dir=tmp_path / "a")
    assert isinstance(refused.value.__cause__, DisabledRepoError)
    assert refused.value.__cause__.response.status_code == 451

    # alice sees why on the model's page and appeals, once.
    owner = _ui(browser, live_server, "alice")
    owner.page.goto("/alice/tiny")
    expect(owner.page.locator("#repo-disabled")).to_contain_text("disabled by the moderators")
    expect(owner.page.locator("#repo-disabled")).to_contain_text("reason: malware")
    owner.page.get_by_label(f"Appeal moderation action #{action.pk}").fill("The pickle is a test fixture; removed.")
    owner.page.get_by_role("button", name="Send the appeal").click()
    expect(owner.page.locator(f"#appeal-status-{action.pk}")).to_have_attribute("data-status", "pending")
    expect(owner.page.locator(".appeal-form")).to_have_count(0)
    owner.screenshot("moderation-appeal")

    # The appeal reaches the queue; the moderator reverses the action.
    mod.page.goto("/moderation/")
    appeal = Appeal.objects.get()
    appeal_row = mod.page.locator(f"#appeals tr[data-appeal='{appeal.pk}']")
    expect(appeal_row).to_contain_text("The pickle is a test fixture; removed.")
    mod.screenshot("moderation-queue")
    appeal_row.get_by_role("button", name=f"Reverse action of appeal {appeal.pk}").click()
    expect(mod.page.locator("#appeals")).to_contain_text("No pending appeals.")

    anonymous.page.goto("/moderation/log")
    expect(anonymous.page.locator("#moderation-log tbody tr").first).to_contain_text("Repository enabled")
    expect(anonymous.page.locator("#moderation-log tbody tr").first).to_contain_text(f"undoes #{action.pk}")
    anonymous.screenshot("moderation-log")
    path = hf_hub_download("alice/tiny", "weights.bin", endpoint=live_server.url, token=token, cache_dir=tmp_path / "b")
    assert Path(path).read_bytes() == b"tiny weights"
    owner.page.goto("/alice/tiny")
    expect(owner.page.locator("#repo-disabled")).to_have_count(0)

    for ui in (browser_page, mod, owner, anonymous):
        assert ui.errors == []
        assert ui.console_errors == []
    for ui in (mod, owner, anonymous):
        ui.context.close()
