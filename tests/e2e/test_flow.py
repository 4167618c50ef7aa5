"""The path most people take through the hub, in real Chromium: sign up, create a model repository,
upload a README and a 30 MB safetensors file (resumable parts, visible progress), read the card
with its math, browse files and the safetensors summary, edit the card, read history and a diff,
find the model by search and filter, like it, log out — and a private repository is nowhere."""

from __future__ import annotations

import hashlib
import re

import numpy
import pytest
from playwright.sync_api import expect
from safetensors.numpy import save

from registry.models import GitCommit, Repo

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PART_BYTES = 8 * 1024 * 1024
README = """---
license: apache-2.0
pipeline_tag: text-generation
library_name: transformers
tags: [e2e-tiny]
---
# Tiny GPT

A model small enough to test with. Its loss is $\\mathcal{L} = -\\sum_t \\log p(x_t)$ and

$$
\\int_0^1 x \\, dx = \\frac{1}{2}
$$

```mermaid
graph LR; Tokens --> Model --> Logits
```
"""


@pytest.fixture
def model_files(tmp_path):
    weights = save(
        {"transformer.wte.weight": numpy.zeros((2560, 3072), dtype=numpy.float32),
         "lm_head.bias": numpy.zeros((3072,), dtype=numpy.float16)},
        metadata={"format": "pt"},
    )  # fmt: skip
    assert len(weights) > 30 * 1024 * 1024
    (tmp_path / "model.safetensors").write_bytes(weights)
    (tmp_path / "README.md").write_text(README)
    return tmp_path, weights


def test_sign_up_publish_browse_find_like_and_privacy(browser_page, model_files, settings):
    # Large files take the multipart path in parts of 8 MiB (4 parts for this one).
    settings.HUB_MULTIPART_THRESHOLD_BYTES = PART_BYTES
    settings.HUB_MULTIPART_CHUNK_BYTES = PART_BYTES
    folder, weights = model_files
    ui = browser_page
    page = ui.page

    # Sign up.
    page.goto("/join")
    page.fill("#id_username", "ada")
    page.fill("#id_fullname", "Ada L.")
    page.fill("#id_email", "ada@example.org")
    page.fill("#id_password", "correct-horse-battery-staple")
    page.click("form button[type=submit]")
    expect(page.locator(".messages")).to_have_text("Welcome, ada!")

    # Create a model repository.
    page.click("nav.nav a:text('New')")
    page.fill("#id_name", "tiny-gpt")
    ui.screenshot("01-new-repository")
    page.click("#repo-new-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/ada/tiny-gpt$"))
    expect(page.locator(".empty h2")).to_have_text("No model card yet")

    # Upload two files; the 30 MB one in resumable parts, one part failing once on the way.
    page.click("nav.tabs a:text('Upload')")
    part_puts: list[str] = []

    def flaky_parts(route):
        part_puts.append(route.request.url)
        if len(part_puts) == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/api/lfs/parts/"), flaky_parts)
    page.wait_for_selector("#upload-form[data-ready]")
    page.set_input_files("#file-input", [str(folder / "model.safetensors"), str(folder / "README.md")])
    expect(page.locator("#upload-list li")).to_have_count(2)
    page.evaluate(
        """() => {
            window.progressSeen = [];
            const bar = document.querySelector('li[data-path="model.safetensors"] progress');
            new MutationObserver(() => window.progressSeen.push(bar.getAttribute('value')))
                .observe(bar, {attributes: true, attributeFilter: ['value']});
        }"""
    )
    page.fill("#commit-summary", "Add weights and card")
    page.click("#upload-submit")
    ui.screenshot("02-upload-in-progress")
    expect(page.locator("#upload-done-link")).to_be_visible(timeout=90_000)
    ui.screenshot("03-upload-done")
    seen = [int(value) for value in page.evaluate("window.progressSeen") if value is not None]
    assert seen[-1] == 100
    assert any(0 < value < 100 for value in seen), seen  # progress was shown on the way, not only at the end
    assert page.locator('li[data-path="README.md"] progress').get_attribute("value") == "100"
    assert len(part_puts) == 5  # four parts, one of them sent twice
    expect(page.locator('li[data-path="model.safetensors"] .upload-state')).to_have_text("Committed")
    repo = Repo.objects.get(name="tiny-gpt")
    head = GitCommit.objects.get(repo=repo, oid=repo.refs.get(name="refs/heads/main").target_oid)
    assert head.title == "Add weights and card"

    # The files, with the LFS file's size and hash.
    page.click("#upload-done-link")
    expect(page.locator(".files-table")).to_contain_text("model.safetensors")
    ui.screenshot("04-files")
    page.click("a:text('model.safetensors')")
    expect(page.locator("#file-sha256")).to_have_text(hashlib.sha256(weights).hexdigest())
    expect(page.locator("#st-parameters")).to_have_text("7,867,392 (7.9M)")
    expect(page.locator("#tensors tbody tr")).to_have_count(2)
    expect(page.locator("#tensors tbody tr").first).to_contain_text("[3072]")
    ui.screenshot("05-safetensors")

    # The card renders, math typeset by KaTeX and the diagram drawn by mermaid.
    page.click("nav.tabs a:text('Model card')")
    expect(page.locator("[data-markdown][data-rendered]")).to_have_count(1)
    expect(page.locator(".markdown .katex")).to_have_count(2)
    expect(page.locator(".markdown .math-display .katex-display")).to_have_count(1)
    expect(page.locator(".markdown pre.mermaid svg")).to_have_count(1)
    expect(page.locator("#repo-facts")).to_contain_text("apache-2.0")
    expect(page.locator("#parameters")).to_have_text("7.9M")
    ui.screenshot("06-model-card")

    # Edit the card in the browser with a preview, and commit.
    page.click("a:text('Edit the card')")
    page.wait_for_selector("[data-editor-tabs]:not([hidden])")
    page.fill("#id_content", README.replace("# Tiny GPT", "# Tiny GPT v2\n\nNow with $\\alpha$."))
    page.click("#tab-preview")
    expect(page.locator("#panel-preview .katex")).to_have_count(3)
    ui.screenshot("07-edit-preview")
    page.fill("#id_summary", "Describe v2")
    page.click("#editor-form button[value=commit]")
    expect(page.locator(".markdown h1")).to_contain_text("Tiny GPT v2")

    # History and the diff of the edit.
    page.click("nav.tabs a:text('History')")
    expect(page.locator("#commits li")).to_have_count(3)
    ui.screenshot("08-history")
    page.click("#commits li >> nth=0 >> a.commit-title")
    expect(page.locator("#diff-summary")).to_have_text("1 changed file, 3 additions, 1 deletion")
    expect(page.locator("tr.diff-added")).to_have_count(3)
    expect(page.locator("tr.diff-deleted .lc")).to_contain_text("# Tiny GPT")
    ui.screenshot("09-commit-diff")

    # A private repository, created the same way.
    page.goto("/new")
    page.fill("#id_name", "hidden-weights")
    page.check("input[name=visibility][value=private]")
    page.click("#repo-new-form button[type=submit]")
    expect(page.locator(".repo-title .badge-private")).to_have_text("Private")

    # Search, then a filter, find the model.
    page.fill("#nav-q", "tiny")
    page.press("#nav-q", "Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=tiny$"))
    expect(page.locator("#search-models")).to_contain_text("ada/tiny-gpt")
    page.click("#search-models a.search-more")
    expect(page.locator("#results")).to_contain_text("ada/tiny-gpt")
    page.click(".facet a:text('text-generation')")
    expect(page).to_have_url(re.compile(r"/models\?search=tiny&pipeline_tag=text-generation$"))
    expect(page.locator("#results .repo-card")).to_have_count(1)
    ui.screenshot("10-search-filter")

    # Like it.
    page.click("#results a:has-text('tiny-gpt')")
    page.click(".like-button")
    expect(page.locator(".like-button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".like-count")).to_have_text("1")
    page.reload()
    expect(page.locator(".like-count")).to_have_text("1")
    assert Repo.objects.get(pk=repo.pk).likes == 1

    # Log out: the private repository is nowhere to be seen.
    page.click("nav.nav button:text('Log out')")
    expect(page.locator("nav.nav")).to_contain_text("Log in")
    for url in ("/", "/models", "/models?search=hidden", "/ada"):
        page.goto(url)
        expect(page.locator("main")).not_to_contain_text("hidden-weights")
    for url in ("/ada/hidden-weights", "/ada/hidden-weights/tree/main", "/ada/hidden-weights/commits/main"):
        response = page.goto(url)
        assert response.status == 404, url
    ui.screenshot("11-private-is-404")
    page.goto("/ada")
    expect(page.locator(".profile-repos")).to_contain_text("ada/tiny-gpt")
    ui.screenshot("12-profile")
    assert (ui.dialogs, ui.errors) == ([], [])
    assert [error for error in ui.console_errors if "Content Security Policy" in error] == []
