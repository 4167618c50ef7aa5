"""Real Chromium against the live ASGI hub and a real engine: the Playground tab streams tokens,
and an arena vote reveals the models and changes the arena board."""

from __future__ import annotations

import itertools
import os

import pytest
from django.test import Client

from tests.support.factories import make_user
from tests.support.inference import publish_model

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.live]

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def signed_in(browser, live_inference, hub_url, model_dirs):
    from tests.e2e.conftest import BrowserPage

    alice = make_user("alice")
    publish_model(alice, "tiny-llama", model_dirs["llama"])
    publish_model(alice, "other-llama", model_dirs["llama2"])
    session = Client()
    session.force_login(alice)
    context = browser.new_context(base_url=hub_url, viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": hub_url}])
    page = BrowserPage(context, hub_url)
    yield page
    context.close()


# Records every distinct value the output box takes, so the test sees the text grow token by token.
WATCH_OUTPUT = """() => {
  window.__seen = [];
  const box = document.querySelector('#output textarea');
  const look = () => {
    const value = box.value;
    if (value && value !== window.__seen[window.__seen.length - 1]) window.__seen.push(value);
  };
  new MutationObserver(look).observe(box, {attributes: true, childList: true, subtree: true, characterData: true});
  window.__watch = setInterval(look, 2);
}"""


def test_the_playground_tab_streams_tokens(signed_in):
    page = signed_in.page
    page.goto("/alice/tiny-llama")
    page.get_by_role("link", name="Playground").click()
    page.wait_for_url("**/alice/tiny-llama/playground")
    frame = page.frame_locator("#playground-frame")
    frame.locator("#prompt textarea").fill("alpha beta gamma")
    playground = next(f for f in page.frames if "/playground/text-generation/alice/tiny-llama/" in f.url)
    playground.wait_for_selector("#output textarea")
    playground.evaluate(WATCH_OUTPUT)
    frame.get_by_role("button", name="Generate").click()
    playground.wait_for_function("() => window.__seen.length > 0")
    page.wait_for_timeout(1500)
    seen = playground.evaluate("() => { clearInterval(window.__watch); return window.__seen; }")
    # Streamed: the box shows a part of the completion before the whole. On a loaded machine the
    # browser may draw several tokens in one update, so two growing values are the least.
    assert len(seen) >= 2, seen
    assert all(later.startswith(earlier) and later != earlier for earlier, later in itertools.pairwise(seen))
    signed_in.screenshot("playground-text-generation")
    assert signed_in.errors == []


def test_an_arena_vote_changes_the_board(signed_in):
    page = signed_in.page
    page.goto("/arena/board")
    assert page.locator("#arena-board-empty").is_visible()
    page.goto("/arena")
    page.get_by_label("Prompt").fill("alpha beta")
    page.get_by_role("button", name="Battle").click()
    page.get_by_role("button", name="A is better").wait_for()
    answers = [page.locator(f"#arena-answer-{side}").text_content() for side in "ab"]
    assert all(answers)
    assert page.locator("#arena-name-a").text_content() == ""
    page.get_by_role("button", name="A is better").click()
    page.locator("#arena-result").wait_for()
    assert page.locator("#arena-result").text_content() == "Thank you: your vote counts towards the arena board."
    names = {page.locator(f"#arena-name-{side}").text_content() for side in "ab"}
    assert names == {"— alice/tiny-llama", "— alice/other-llama"}
    winner = page.locator("#arena-name-a").text_content().removeprefix("— ")
    signed_in.screenshot("arena-vote")
    page.goto("/arena/board")
    rows = page.locator("#arena-board tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").nth(1).text_content() == winner
    signed_in.screenshot("arena-board")
    assert signed_in.errors == []
    assert signed_in.console_errors == []
