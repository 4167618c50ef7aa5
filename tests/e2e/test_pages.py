"""Every kind of page in real Chromium, on a desktop and on a 390 px phone: each loads its scripts
and styles from the hub without a Content-Security-Policy violation, a script error or a failed
request, and none scrolls sideways on the phone. The REST API's docs render and list every
operation of the schema; the header's menu folds on the phone; the header's search suggests
matches as you type and is driven by the keyboard."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from community.services.discussions import comment_add, discussion_create, pull_request_merge
from hub.services.organizations import membership_add
from registry.choices import RepoType
from registry.services.collections import collection_create, collection_item_add
from tests.community.helpers import propose
from tests.e2e.conftest import BrowserPage
from tests.frontend.builders import card, commit_files, make_repo, safetensors_bytes
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_LINE = "tokens = tokenizer.encode(" + ", ".join(f'"word{i}"' for i in range(40)) + ")"
README = f"""---
license: apache-2.0
pipeline_tag: text-generation
library_name: transformers
tags: [chat]
---
# Tiny llama

A small chat model. Its loss is $\\mathcal{{L}} = -\\sum_t \\log p(x_t)$.

```python
{LONG_LINE}
```

| column with a long heading | another long heading | and a third long heading | and a fourth one |
|---|---|---|---|
| 1 | 2 | 3 | 4 |

```mermaid
graph LR; Tokens --> Model --> Logits
```
"""
TUTORIAL = {
    "README.md": card("difficulty: beginner", "# A guide\n\nRead [the model page](02-model.md).\n"),
    "02-model.md": f"# The model\n\n```python\n{LONG_LINE}\n```\n\n$$\\int_0^1 x\\,dx = \\frac{{1}}{{2}}$$\n".encode(),
}


@pytest.fixture
def site(live_server, fast_passwords):
    """A hub with one of everything: a model with a card, code and a merged pull request, an open
    discussion, a dataset, a tutorial, an organization; alice's session cookie."""
    alice, bob = make_user("alice", fullname="Alice Martin"), make_user("bob")
    org = make_org("acme", admin=alice)
    membership_add(actor=alice, organization=org, username="bob", role="write")
    model = make_repo(alice, "tiny-llama")
    first = commit_files(model, alice, {
        "README.md": README.encode(),
        "config.json": b'{"hidden_size": 64, "num_layers": 2, "architectures": ["LlamaForCausalLM"]}',
        "train.py": (LONG_LINE + "\n").encode() * 3,
        "model.safetensors": safetensors_bytes({"lm_head.weight": ("F32", (8, 4))}),
    }, summary="Publish")  # fmt: skip
    pr = propose(model, bob, {"train.py": (LONG_LINE + "\nprint('done')\n").encode()}, summary="Print at the end")
    comment_add(discussion=pr, user=alice, content=f"Thanks!\n\n```\n{LONG_LINE}\n```")
    pull_request_merge(discussion=pr, user=alice)
    discussion_create(repo=model, user=bob, title="Perplexity?", description="On the test split?", pull_request=False)
    dataset = make_repo(alice, "stories", repo_type=RepoType.DATASET)
    commit_files(dataset, alice, {"README.md": b"# Stories\n", "train.txt": b"once upon a time\n"})
    tutorial = make_repo(alice, "guide", repo_type=RepoType.TUTORIAL)
    commit_files(tutorial, alice, TUTORIAL)
    picks = collection_create(user=alice, namespace=alice.namespace, title="Picks", description="To start with")
    for kind, item_id in (("model", "alice/tiny-llama"), ("dataset", "alice/stories"), ("tutorial", "alice/guide")):
        collection_item_add(user=alice, collection=picks, kind=kind, item_id=item_id, note=LONG_LINE)
    client = Client()
    client.force_login(alice)
    return {"commit": first.commit.oid, "session": client.cookies["sessionid"].value, "collection": picks.web_path}


def _pages(commit: str, collection: str) -> list[str]:
    return [
        "/collections", "/collections/new", collection,
        "/", "/models", "/datasets", "/tutorials", "/search?q=tiny", "/search", "/new",
        "/alice/tiny-llama", "/alice/tiny-llama/tree/main", "/alice/tiny-llama/blob/main/config.json",
        "/alice/tiny-llama/blob/main/train.py", "/alice/tiny-llama/blob/main/README.md",
        "/alice/tiny-llama/blob/main/model.safetensors", "/alice/tiny-llama/commits/main",
        f"/alice/tiny-llama/commit/{commit}", "/alice/tiny-llama/discussions", "/alice/tiny-llama/discussions/1",
        "/alice/tiny-llama/discussions/1/files", "/alice/tiny-llama/discussions/2",
        "/alice/tiny-llama/discussions/new", "/alice/tiny-llama/edit/main/README.md",
        "/alice/tiny-llama/upload/main", "/datasets/alice/stories", "/datasets/alice/stories/blob/main/train.txt",
        "/tutorials/alice/guide", "/tutorials/alice/guide/page/02-model.md", "/alice", "/acme",
        "/organizations/acme/settings/members", "/organizations/new", "/settings/profile", "/settings/password",
        "/settings/tokens", "/settings/notifications", "/settings/webhooks", "/notifications", "/api/v1/docs/",
    ]  # fmt: skip


ANONYMOUS_PAGES = ["/login", "/join", "/password-reset", "/no-such-person"]


class Visit:
    """A page load with what went wrong on the way: failed requests and error responses of the
    page's own resources, script errors, console errors (CSP violations among them)."""

    def __init__(self, ui: BrowserPage) -> None:
        self.ui = ui
        self.failures: list[str] = []
        ui.page.on("requestfailed", lambda request: self.failures.append(f"{request.url}: {request.failure}"))
        ui.page.on(
            "response",
            lambda response: (
                self.failures.append(f"{response.url}: {response.status}")
                if response.status >= 400 and response.request.resource_type != "document"
                else None
            ),
        )

    def open(self, path: str) -> int:
        self.ui.errors.clear()
        self.ui.console_errors.clear()
        self.failures.clear()
        response = self.ui.page.goto(path, wait_until="networkidle")
        return response.status

    def problems(self) -> list[str]:
        return [*self.failures, *self.ui.errors, *self.ui.console_errors]

    def overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no sideways scrolling)."""
        return self.ui.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _ui(browser, live_server, viewport, session: str | None) -> BrowserPage:
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    if session:
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return BrowserPage(context, live_server.url)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_loads_cleanly_and_never_scrolls_sideways(site, browser, live_server, viewport):
    report = {}
    for session, paths in ((site["session"], _pages(site["commit"], site["collection"])), (None, ANONYMOUS_PAGES)):
        ui = _ui(browser, live_server, viewport, session)
        visit = Visit(ui)
        for path in paths:
            status = visit.open(path)
            expected = 404 if path == "/no-such-person" else 200
            # A page answered with 404 reports it on the console itself, and only that.
            problems = [
                p for p in visit.problems() if not (expected == 404 and p.endswith("status of 404 (Not Found)"))
            ]
            found = {"status": status, "problems": problems, "overflow": max(visit.overflow(), 0)}
            if found != {"status": expected, "problems": [], "overflow": 0}:
                report[path] = found
            if viewport is PHONE and path in {"/alice/tiny-llama", "/alice/tiny-llama/discussions"}:
                ui.screenshot(f"phone-{path.strip('/').replace('/', '-')}")
        ui.context.close()
    assert report == {}, "\n".join(f"{path}: {found}" for path, found in report.items())


def test_api_docs_render_every_operation_from_the_hub(browser_page):
    schema = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operations = sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )
    visit = Visit(browser_page)
    assert visit.open("/api/v1/docs/") == 200
    page = browser_page.page
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LLM Hub API")
    blocks = page.locator(".opblock-summary")
    expect(blocks).to_have_count(len(operations))
    shown = sorted(
        f"{block.locator('.opblock-summary-method').inner_text()} "
        f"{block.locator('.opblock-summary-path').get_attribute('data-path')}"
        for block in blocks.all()
    )
    assert shown == operations
    # Every asset came from the hub itself.
    sources = page.evaluate("[...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)")
    assert [src for src in sources if not src.startswith(browser_page.base_url)] == []
    assert visit.problems() == []
    browser_page.screenshot("api-docs")


def test_phone_header_folds_its_links_behind_a_menu(browser, live_server, site):
    ui = _ui(browser, live_server, PHONE, site["session"])
    page = ui.page
    page.goto("/alice/tiny-llama")
    links, toggle = page.locator("#nav-links"), page.locator(".nav-toggle")
    expect(links).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    header_height = page.locator(".site-header").bounding_box()["height"]
    assert header_height < 120  # brand and menu on one row, search on the next
    community = page.locator("#tab-community").bounding_box()
    assert community["x"] >= 0
    assert community["x"] + community["width"] <= PHONE["width"]
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(links).to_be_visible()
    ui.screenshot("phone-menu-open")
    page.keyboard.press("Escape")
    expect(links).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.press("Enter")
    page.click("#nav-links a:text('Datasets')")
    expect(page).to_have_url(re.compile(r"/datasets$"))
    ui.context.close()
    desktop = _ui(browser, live_server, DESKTOP, None)
    desktop.page.goto("/")
    expect(desktop.page.locator(".nav-toggle")).to_be_hidden()
    expect(desktop.page.locator("#nav-links")).to_be_visible()
    desktop.context.close()


def test_header_search_suggests_every_kind_and_is_driven_by_the_keyboard(browser_page, site):
    page = browser_page.page
    page.goto("/")
    box = page.locator("#nav-q")
    box.focus()
    page.keyboard.type("a")
    suggestions = page.locator("#nav-suggestions")
    expect(suggestions).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    groups = suggestions.locator(".suggestion-group")
    expect(groups).to_have_text(["Models (1)", "Datasets (1)", "Tutorials (1)", "People and organizations (2)"])
    options = suggestions.locator("[role=option]")
    expect(options).to_have_count(6)  # three repositories, alice and acme, "all results"
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "nav-suggestion-0")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(options.nth(5)).to_have_attribute("aria-selected", "true")  # wraps to "all results"
    page.keyboard.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.type("lice")
    expect(groups).to_have_text(["Models (1)", "Datasets (1)", "Tutorials (1)", "People and organizations (1)"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/datasets/alice/stories$"))
    page.goto("/")
    page.locator("#nav-q").fill("tiny")
    page.keyboard.press("Enter")  # no option chosen: the search page
    expect(page).to_have_url(re.compile(r"/search\?q=tiny$"))
    expect(page.locator("#search-models")).to_contain_text("alice/tiny-llama")
    assert (browser_page.errors, browser_page.console_errors) == ([], [])
