"""Script payloads in a README, a file name, a commit message, an HTML file and a search render inert
in real Chromium: no dialog opens and no payload sets its global, on every page that shows them."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from registry.models import GitCommit
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def payload(tag: str) -> str:
    """JavaScript that leaves a trace if it ever runs."""
    return f"window.__xss=(window.__xss||[]).concat('{tag}');alert('{tag}')"


README = f"""---
license: mit
tags: ["<img src=x onerror={payload("tag")}>"]
---
# Card <script>{payload("heading")}</script>

<script>{payload("script")}</script>
<img src="x" onerror="{payload("img")}">
<a href="javascript:{payload("a-href")}">link</a> [md link](javascript:{payload("md-link")})
<svg><script>{payload("svg")}</script></svg>
<iframe srcdoc="<script>{payload("iframe")}</script>"></iframe>
<div onmouseover="{payload("hover")}" style="position:fixed;inset:0">cover</div>
<form action="javascript:{payload("form")}"><button id="xss-button">go</button></form>
<details open ontoggle="{payload("toggle")}"><summary>s</summary></details>

Math: $\\href{{javascript:{payload("katex")}}}{{x}}$ and $\\htmlId{{x}}{{y}}$

```mermaid
graph TD
  A["<img src=x onerror={payload("mermaid")}>"] --> B
  click A callback "{payload("mermaid-click")}"
```
"""
EVIL_NAME = f'"><img src=x onerror="{payload("filename")}">.txt'
EVIL_COMMIT = f'<script>{payload("commit")}</script><img src=x onerror="{payload("commit-img")}">'


@pytest.fixture
def evil_repo(fast_passwords):
    alice = make_user("alice", password="correct-horse-battery-staple")
    repo = make_repo(alice, "evil")
    commit_files(
        repo, alice,
        {"README.md": README.encode(), EVIL_NAME: b"hello", "page.html": f"<script>{payload('raw')}</script>".encode(),
         "drawing.svg": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{payload("svg-file")}"/>'.encode()},
        summary=EVIL_COMMIT, description=f"<script>{payload('body')}</script>",
    )  # fmt: skip
    head = GitCommit.objects.get(repo=repo, oid=repo.refs.get(name="refs/heads/main").target_oid)
    return alice, head


def assert_inert(ui, url: str) -> None:
    page = ui.page
    page.wait_for_timeout(300)  # let images fail and handlers (if any) fire
    page.mouse.move(200, 300)
    assert page.evaluate("window.__xss || null") is None, url
    assert ui.dialogs == [], url
    markdown_scripts = page.locator(".markdown script, .markdown iframe, .markdown [onerror], .markdown [onload]")
    assert markdown_scripts.count() == 0, url
    assert page.locator('a[href^="javascript:"], form[action^="javascript:"]').count() == 0, url


def test_payloads_render_inert_everywhere(browser_page, evil_repo, tmp_path):
    _alice, head = evil_repo
    ui = browser_page
    page = ui.page
    page.goto("/login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct-horse-battery-staple")
    page.click("form button[type=submit]")

    page.goto("/alice/evil")
    expect(page.locator("[data-markdown][data-rendered]")).to_have_count(1)
    expect(page.locator(".markdown pre.mermaid svg")).to_have_count(1)
    assert_inert(ui, "card")
    expect(page.locator(".markdown h1")).to_contain_text("Card")
    ui.screenshot("xss-01-card")

    evil_path = quote(EVIL_NAME, safe="")
    for url in (
        "/alice/evil/tree/main",
        f"/alice/evil/blob/main/{evil_path}",
        "/alice/evil/commits/main",
        f"/alice/evil/commit/{head.oid}",
        "/alice/evil/blob/main/drawing.svg",
        "/alice/evil/edit/main/README.md",
        "/models?search=" + quote("<script>alert(1)</script>"),
        "/models?tag=" + quote(f"<img src=x onerror={payload('facet')}>"),
        "/alice",
    ):
        page.goto(url)
        assert_inert(ui, url)
    page.goto("/alice/evil/tree/main")
    expect(page.locator(".files-table")).to_contain_text(EVIL_NAME)
    page.goto("/alice/evil/commits/main")
    expect(page.locator(".commit-title").first).to_have_text(EVIL_COMMIT)
    ui.screenshot("xss-02-history")

    # The editor's preview goes through the same sanitiser.
    page.goto("/alice/evil/edit/main/README.md")
    page.wait_for_selector("[data-editor-tabs]:not([hidden])")
    page.click("#tab-preview")
    expect(page.locator("#panel-preview [data-markdown]")).to_have_count(1)
    expect(page.locator("#panel-preview pre.mermaid svg")).to_have_count(1)
    assert_inert(ui, "preview")

    # Raw HTML is served sandboxed, never as a page of the hub; SVG only as a download.
    page.goto("/alice/evil/raw/main/page.html")
    assert_inert(ui, "page.html")
    with pytest.raises(PlaywrightError, match="Download is starting"):
        page.goto("/alice/evil/raw/main/drawing.svg")
    assert_inert(ui, "drawing.svg")
    # A hostile file name dropped into the uploader stays text.
    page.goto("/alice/evil/upload/main")
    page.wait_for_selector("#upload-form[data-ready]")
    hostile = tmp_path / "<img src=x onerror=window.__xss=1>.txt"
    hostile.write_bytes(b"x")
    page.set_input_files("#file-input", [str(hostile)])
    expect(page.locator("#upload-list .upload-name")).to_have_text(hostile.name)
    assert_inert(ui, "uploader")
    assert ui.errors == []
