"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server is a threaded WSGI server inside the test process, so settings changed by a test
apply to it. Playwright's sync API runs an event loop in the test thread, which makes Django's
async-safety check refuse ORM calls from test code; the check is off for these tests (nothing
here runs in an event loop Django cares about).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The live ASGI hub and engine of the inference tests (tests/e2e/test_inference.py).
from tests.support.inference import engine_url, hub_url, live_inference, model_dirs  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
VENDOR_FILES = [
    REPO_ROOT / "frontend/static/vendor/katex/katex.min.js",
    REPO_ROOT / "frontend/static/vendor/mermaid/mermaid.min.js",
    REPO_ROOT / "frontend/static/vendor/uplot/uPlot.esm.js",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does it)")
    missing = [str(path.relative_to(REPO_ROOT)) for path in VENDOR_FILES if not path.exists()]
    if missing:
        pytest.fail(f"vendored browser libraries are missing ({', '.join(missing)}): run `make install`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class BrowserPage:
    """A page of a fresh browser context, with what it reported: dialogs, page errors, console
    errors (CSP violations among them)."""

    def __init__(self, context, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(20_000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console_errors: list[str] = []

        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console", lambda message: self.console_errors.append(message.text) if message.type == "error" else None
        )

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def browser_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = BrowserPage(context, live_server.url)
    yield page
    context.close()


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
